"""The one Lambda asset: the lambdas/ package plus its pinned requirements, bundled without Docker."""

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
_PIP_PLATFORM = (
    "--platform",
    "manylinux2014_aarch64",
    "--implementation",
    "cp",
    "--python-version",
    PYTHON_VERSION,
)
_SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", "requirements.txt")


@jsii.implements(cdk.ILocalBundling)
class LocalPipBundling:
    """Bundle on the synth machine: pip-install the requirements, then copy the package."""

    def __init__(self, source_dir: Path = LAMBDAS_DIR) -> None:
        self._source_dir = source_dir

    def try_bundle(self, output_dir: str, *, image: cdk.DockerImage, **_options: object) -> bool:
        """Write the asset into output_dir; True tells CDK no Docker fallback is needed."""
        requirements = self._source_dir / "requirements.txt"
        if requirements.exists():
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    "--no-compile",
                    "--only-binary=:all:",
                    *_PIP_PLATFORM,
                    "--target",
                    output_dir,
                    "-r",
                    str(requirements),
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
