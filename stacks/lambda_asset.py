"""The one Lambda asset: the lambdas/ package plus its locked requirements, bundled without Docker."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import aws_cdk as cdk
import jsii
from aws_cdk import aws_lambda as lambda_

LAMBDAS_DIR = Path(__file__).resolve().parent.parent / "lambdas"
# The newest Python runtime Lambda, aws-cdk-lib and cfn-lint all know (checked 2026-11-30). Lambda
# deprecates python3.14 on 2029-06-30, blocks creates 2029-07-31, updates 2029-08-31 (cfn-lint 1.58's
# data/AdditionalSpecs/LmbdRuntimeLifecycle.json; the same dates on endoflife.date/aws-lambda).
# python3.11 had until 2027-06-30. Being the latest runtime, it also satisfies cdk-nag's AwsSolutions-L1.
RUNTIME = lambda_.Runtime.PYTHON_3_14
ARCHITECTURE = lambda_.Architecture.ARM_64
PYTHON_VERSION = RUNTIME.name.removeprefix("python")
# Wheels are chosen for the Lambda platform, not the machine running synth.
PIP_PLATFORM = "manylinux2014_aarch64"
_PIP_TARGET = ("--platform", PIP_PLATFORM, "--implementation", "cp", "--python-version", PYTHON_VERSION)
LOCK_NAME = "requirements.lock"
_SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", "requirements.txt", LOCK_NAME)


@jsii.implements(cdk.ILocalBundling)
class LocalPipBundling:
    """Bundle on the synth machine: pip-install the locked requirements, then copy the package.

    `lambdas/requirements.lock` is the bundle's whole closure (lambdas/requirements.txt and what it
    pulls in), each line pinned with its hashes. `make lock` compiles it for the Lambda's own
    interpreter and platform, held to requirements.lock's versions, and a test checks that every line
    is the same as requirements.lock's. It is a file of its own rather than lines picked out of
    requirements.lock because the closure is resolved for Python 3.14 on arm64, where environment
    markers may pull in other packages than on the 3.11/x86_64 machine the main lock is resolved for.
    pip installs it with --require-hashes (a missing, unpinned or altered package stops the build)
    and wheels only, for the Lambda's interpreter and platform. Dependencies are left on: pip finds
    nothing to add when the lock is complete and stops with an error when it is not.
    """

    def __init__(self, source_dir: Path = LAMBDAS_DIR) -> None:
        self._source_dir = source_dir

    def try_bundle(self, output_dir: str, *, image: cdk.DockerImage, **_options: object) -> bool:
        """Write the asset into output_dir; True tells CDK no Docker fallback is needed."""
        lock = self._source_dir / LOCK_NAME
        if (self._source_dir / "requirements.txt").exists() and not lock.exists():
            raise FileNotFoundError(f"{lock} is missing: run `make lock`")
        if lock.exists():
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    "--no-compile",
                    "--require-hashes",
                    "--only-binary=:all:",
                    *_PIP_TARGET,
                    "--target",
                    output_dir,
                    "-r",
                    str(lock),
                ],
                check=True,
            )
        shutil.copytree(
            self._source_dir, Path(output_dir) / self._source_dir.name, ignore=_SKIP, dirs_exist_ok=True
        )
        return True


def lambdas_code() -> lambda_.Code:
    """The shared asset; handlers are addressed as `lambdas.<name>.handler.handler`."""
    return lambda_.Code.from_asset(
        str(LAMBDAS_DIR),
        exclude=["__pycache__", "*.pyc"],
        bundling=cdk.BundlingOptions(image=RUNTIME.bundling_image, local=LocalPipBundling()),
    )
