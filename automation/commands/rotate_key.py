"""`byoip rotate-key`: rotate the agents' signing key now; `--emergency` also retires the old key at once."""

from __future__ import annotations

from typing import Annotated

import typer

from automation import clients
from automation.commands.revoke import management_endpoint
from automation.output import console
from automation.scripts.revoke_tokens import emergency_rotation
from automation.stage import stage_config
from lambdas.common.tables import AGENTS


def rotate_key(
    stage: Annotated[str, typer.Option("--stage", help="Stage (prod, staging, ...).")],
    emergency: Annotated[
        bool,
        typer.Option(
            "--emergency",
            help="The key leaked: retire the previous key at once and close every connection it signed "
            "(run as the break-glass role; every agent needs a new token).",
        ),
    ] = False,
    region: Annotated[str | None, typer.Option("--region", help="AWS region (default: AWS_REGION).")] = None,
) -> None:
    """Rotate the agents' key. Without --emergency the previous key still verifies for 30 minutes."""
    names = stage_config(stage).names
    chosen = clients.region_or_fail(region)
    secrets = clients.client("secretsmanager", chosen)
    if not emergency:
        version = secrets.rotate_secret(SecretId=names.jwt_secret, RotateImmediately=True)["VersionId"]
        console.print(
            f"rotation to version {version} started; the previous key verifies for 30 minutes after it",
            markup=False,
        )
        return
    endpoint = management_endpoint(clients.client("apigatewayv2", chosen), names, chosen)
    summary = emergency_rotation(
        secrets,
        clients.client("dynamodb", chosen),
        clients.client("apigatewaymanagementapi", chosen, endpoint),
        secret_id=names.jwt_secret,
        agents_table=names.table(AGENTS.short),
    )
    console.print(
        f"rotated to version {summary['currentVersion']}; retired version {summary['retiredVersion']} "
        f"(no token it signed connects); closed {summary['closed']} open connection(s)",
        markup=False,
    )
