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
RUNTIME = lambda_.Runtime.PYTHON_3_11
ARCHITECTURE = lambda_.Architecture.ARM_64
# Wheels are chosen for the Lambda platform, not the machine running synth.
_PIP_PLATFORM = ("--platform", "manylinux2014_aarch64", "--implementation", "cp", "--python-version", "3.11")
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
