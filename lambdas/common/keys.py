"""The HS256 keys ws-connect accepts, chosen by the token's `kid`.

Secrets Manager keeps the key's current version (`AWSCURRENT`) and, after a rotation, the one
before it (`AWSPREVIOUS`). Both verify tokens, so a rotation never cuts off an agent whose
token was signed a moment before it. A key's id (`kid`) is derived from the key itself, so
the raw local key (WS_JWT_SECRET) and Secrets Manager versions are named the same way.
"""

from __future__ import annotations

import hashlib
import time

from botocore.exceptions import ClientError

from lambdas.common import aws
from lambdas.common.settings import Settings

STAGES = ("AWSCURRENT", "AWSPREVIOUS")
CACHE_SECONDS = 300  # keys are re-read at most every five minutes...
REFRESH_AFTER_SECONDS = 10  # ...or sooner when a token names a kid we do not know (a rotation)
_cache: dict[str, tuple[float, dict[str, str]]] = {}


class MisconfiguredSecret(Exception):
    """No usable signing key is configured."""


def key_id(key: str) -> str:
    """The `kid` of a key: 16 hex digits of its SHA-256 (names the key, reveals nothing usable)."""
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def verification_keys(config: Settings, *, refresh: bool = False) -> dict[str, str]:
    """kid -> key for every key a token may be signed with (current, and previous if any)."""
    if config.jwt_secret:  # local and tests: one raw key
        return {key_id(config.jwt_secret): config.jwt_secret}
    arn = config.jwt_secret_arn
    if not arn:
        raise MisconfiguredSecret("neither WS_JWT_SECRET nor WS_JWT_SECRET_ARN is set")
    cached = _cache.get(arn)
    age = time.monotonic() - cached[0] if cached else None
    if cached and age is not None and (age < REFRESH_AFTER_SECONDS or (age < CACHE_SECONDS and not refresh)):
        return cached[1]
    keys = _read(arn)
    _cache[arn] = (time.monotonic(), keys)
    return keys


def current_key(config: Settings) -> str:
    """The key new tokens are signed with (AWSCURRENT, or the raw local key)."""
    if config.jwt_secret:
        return config.jwt_secret
    return _value(aws.client("secretsmanager"), config.jwt_secret_arn, "AWSCURRENT") or ""


def clear_cache() -> None:
    """Forget cached keys (tests)."""
    _cache.clear()


def _read(arn: str) -> dict[str, str]:
    client = aws.client("secretsmanager")
    keys = {}
    for stage in STAGES:
        value = _value(client, arn, stage)
        if value:
            keys[key_id(value)] = value
        elif stage == "AWSCURRENT":
            raise MisconfiguredSecret("the JWT secret is empty")
    return keys


def _value(client: object, arn: str, stage: str) -> str | None:
    try:
        return client.get_secret_value(SecretId=arn, VersionStage=stage).get("SecretString")  # type: ignore[attr-defined]
    except ClientError as err:
        # Before the first rotation there is no AWSPREVIOUS: not an error.
        if stage != "AWSCURRENT" and err.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            return None
        raise
