"""`byoip token`: mint a short-lived agent JWT (HS256) for ops and testing."""

from __future__ import annotations

from typing import Annotated

import typer
from botocore.exceptions import ClientError

from automation import clients
from automation.arns import BadArn, secret_arn_region
from automation.output import REFUSED, USAGE, errors, fail
from lambdas.common.auth import MAX_LIFETIME_SECONDS, mint_token
from lambdas.common.keys import key_id
from lambdas.common.protocol import ID_RULE, is_id
from lambdas.common.reserved import is_probe

MIN_KEY_BYTES = 32  # PyJWT's enforce_minimum_key_length for HS256, which ws-connect turns on


def _secret_region(secret_arn: str, region: str | None) -> str:
    """The secret's own region (Secrets Manager only serves it there); --region must agree."""
    try:
        own = secret_arn_region(secret_arn, flag="--secret-arn")
    except BadArn as err:
        fail(str(err))
    if region is not None and clients.check_region(region) != own:
        fail(f"--secret-arn is in {own} but --region is {region}: drop --region or use {own}")
    return own


def _key(secret: str | None, secret_arn: str | None, region: str | None) -> str:
    if (secret is None) == (secret_arn is None):
        fail("give the signing key exactly one way: --secret (or WS_JWT_SECRET) or --secret-arn")
    if secret_arn is not None:
        manager = clients.client("secretsmanager", _secret_region(secret_arn, region))
        try:
            secret = (
                manager.get_secret_value(SecretId=secret_arn.strip(), VersionStage="AWSCURRENT").get(
                    "SecretString"
                )
                or ""
            )
        except ClientError as err:
            error = err.response.get("Error", {})
            code = error.get("Code", "")
            # A secret that is not there is a wrong flag value; anything else is AWS refusing.
            fail(
                f"cannot read --secret-arn {secret_arn.strip()} ({code}: {error.get('Message')})",
                USAGE if code == "ResourceNotFoundException" else REFUSED,
            )
    key = secret or ""
    if len(key.encode()) < MIN_KEY_BYTES:
        fail(
            f"the signing key is {len(key.encode())} bytes; HS256 keys must be at least {MIN_KEY_BYTES} bytes"
        )
    return key


def token(
    agent_id: Annotated[str, typer.Option("--agent-id", help="agentId claim.")],
    creator_id: Annotated[str, typer.Option("--creator-id", help="creatorId claim.")],
    ttl: Annotated[int, typer.Option("--ttl", help=f"Lifetime in seconds, 1-{MAX_LIFETIME_SECONDS}.")] = 300,
    secret: Annotated[
        str | None,
        typer.Option(
            "--secret",
            envvar="WS_JWT_SECRET",
            help="Raw HS256 key: local sandbox and tests only (a deployed stage's key never leaves "
            "Secrets Manager; use --secret-arn with the TokenIssuer role).",
        ),
    ] = None,
    secret_arn: Annotated[
        str | None,
        typer.Option("--secret-arn", help="Secrets Manager ARN of the key (byoip/<stage>/ws-jwt)."),
    ] = None,
    region: Annotated[
        str | None, typer.Option("--region", help="Region of --secret-arn (default: the ARN's).")
    ] = None,
) -> None:
    """Print an agent JWT that ws-connect accepts (HS256, at most 15 minutes)."""
    for flag, value in (("--agent-id", agent_id), ("--creator-id", creator_id)):
        if not is_id(value):
            fail(f"{flag} {value!r} is not an id ({ID_RULE})")
    if is_probe(creator_id):
        fail(f"--creator-id {creator_id} is reserved for the black-box probe (ws-connect refuses it)")
    if not 1 <= ttl <= MAX_LIFETIME_SECONDS:
        fail(
            f"--ttl {ttl} is outside 1-{MAX_LIFETIME_SECONDS} seconds "
            "(ws-connect rejects longer-lived tokens)"
        )
    key = _key(secret, secret_arn, region)
    typer.echo(mint_token(key, agent_id, creator_id, lifetime_s=ttl))
    # On stderr, so `TOKEN=$(byoip token …)` still captures the token alone.
    errors.print(f"kid: {key_id(key)}", markup=False)
