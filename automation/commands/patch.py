"""`byoip patch publish` signs a build with the stage's KMS key and makes it the latest agent patch;
`byoip patch public-key` prints the key's public half for agents."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from botocore.exceptions import ClientError

from automation import clients
from automation.output import console, fail
from automation.patches import PublishRefused, public_key_pem, publish
from automation.stage import stage_config

app = typer.Typer(help="Signed agent patches.", no_args_is_help=True)


def _bucket(ssm: object, parameter: str, stage: str) -> str:
    """The patches bucket's name, from the SSM parameter the stack writes."""
    try:
        return ssm.get_parameter(Name=parameter)["Parameter"]["Value"]  # type: ignore[attr-defined,no-any-return]
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") != "ParameterNotFound":
            raise
        missing = f"SSM parameter {parameter} does not exist (is it deployed?)"
        fail(f"no patches bucket for stage {stage!r}: {missing}")


@app.command("publish")
def publish_command(
    file: Annotated[Path, typer.Argument(help="The agent build to publish.", show_default=False)],
    version: Annotated[str, typer.Option("--version", help="Version, e.g. 1.5.0, above the latest.")],
    stage: Annotated[str, typer.Option("--stage", help="Stage whose agents get the patch.")] = "prod",
    region: Annotated[str | None, typer.Option("--region", help="AWS region (default: AWS_REGION).")] = None,
) -> None:
    """Sign FILE with the stage's patch-signing KMS key, upload it, then point latest.json at it.

    Run it as the stage's patch-release role: the bucket refuses writes from anyone else.
    """
    names = stage_config(stage).names
    chosen = clients.region_or_fail(region)
    bucket = _bucket(clients.client("ssm", chosen), names.patches_bucket_parameter, stage)
    s3, kms = clients.client("s3", chosen), clients.client("kms", chosen)
    try:
        manifest = publish(
            s3, kms, bucket=bucket, key_id=names.patch_signing_key_alias, path=file, version=version
        )
    except PublishRefused as err:
        fail(str(err))
    console.print(
        f"published {manifest.version}: s3://{bucket}/{manifest.key} "
        f"({manifest.size} bytes, sha256 {manifest.sha256}), signed by {manifest.keyId}",
        markup=False,
    )


@app.command("public-key")
def public_key_command(
    stage: Annotated[str, typer.Option("--stage", help="Stage whose signing key to print.")] = "prod",
    region: Annotated[str | None, typer.Option("--region", help="AWS region (default: AWS_REGION).")] = None,
) -> None:
    """Print the stage's patch-signing public key as PEM (agents: --patch-public-key)."""
    names = stage_config(stage).names
    kms = clients.client("kms", clients.region_or_fail(region))
    try:
        typer.echo(public_key_pem(kms, names.patch_signing_key_alias), nl=False)
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") != "NotFoundException":
            raise
        fail(f"no patch-signing key for stage {stage!r}: {names.patch_signing_key_alias} does not exist")
    except PublishRefused as err:
        fail(str(err))
