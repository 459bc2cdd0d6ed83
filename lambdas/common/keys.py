"""The HS256 keys ws-connect accepts, chosen by the token's `kid`.

Secrets Manager keeps the key's current version (`AWSCURRENT`) and, after a rotation, the one
before it (`AWSPREVIOUS`). The current key always verifies. The previous one verifies only for
PREVIOUS_KEY_WINDOW_SECONDS after the rotation began (the AWSCURRENT version's CreatedDate, which
GetSecretValue returns with the key): a token signed a moment before a rotation still connects,
and a leaked old key is worthless half an hour later. An emergency rotation removes AWSPREVIOUS at
once (automation/scripts/revoke_tokens.py); a token naming any kid but the current key's re-reads
the keys once they are REFRESH_AFTER_SECONDS old, so every ws-connect sees that within ten seconds.
A key's id (`kid`) is derived from the key itself, so the raw local key (WS_JWT_SECRET) and
Secrets Manager versions are named the same way.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from lambdas.common import aws, clock
from lambdas.common.settings import Settings

STAGES = ("AWSCURRENT", "AWSPREVIOUS")
# Keys are re-read at most every minute (an emergency rotation's retired key is refused within it;
# automation/scripts/revoke_tokens.py sweeps connections again after it)...
CACHE_SECONDS = 60
REFRESH_AFTER_SECONDS = 10  # ...or sooner when a token names a kid other than the current key's
# Twice the longest token lifetime (auth.MAX_LIFETIME_SECONDS, 900 s; a test holds the two together):
# a token signed with the old key just before the rotation lives out its lifetime, and a rotation
# whose steps take a while (CreatedDate is its first step) still leaves that token its time.
PREVIOUS_KEY_WINDOW_SECONDS = 1800
_cache: dict[str, tuple[float, KeyRing]] = {}


class MisconfiguredSecret(Exception):
    """No usable signing key is configured."""


@dataclass(frozen=True)
class KeyRing:
    """The current key, and the previous one with the epoch until which it still verifies."""

    current: str
    previous: str | None = None
    previous_until: int = 0

    def accepted(self, now: int) -> dict[str, str]:
        """kid -> key for every key a token may be signed with at `now`."""
        found = {key_id(self.current): self.current}
        if self.previous and now < self.previous_until:
            found[key_id(self.previous)] = self.previous
        return found


def key_id(key: str) -> str:
    """The `kid` of a key: 16 hex digits of its SHA-256 (names the key, reveals nothing usable)."""
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def verification_keys(config: Settings, *, refresh: bool = False) -> dict[str, str]:
    """kid -> key for every key a token may be signed with now (current, and previous in its window)."""
    ring, _ = _ring(config, refresh=refresh)
    return ring.accepted(clock.now())


def key_named(config: Settings, kid: str) -> str | None:
    """The key whose id is `kid`, if a token signed with it is accepted now; None otherwise.

    Any kid but the current key's (the previous key, or one rotated in since we read the secret)
    re-reads the keys first once they are REFRESH_AFTER_SECONDS old: a retired previous key is
    refused within that time of its retirement, and a new key is found as soon.
    """
    ring, age = _ring(config)
    if kid == key_id(ring.current):
        return ring.current
    if age >= REFRESH_AFTER_SECONDS:
        ring, _ = _ring(config, refresh=True)
    return ring.accepted(clock.now()).get(kid)


def current_key(config: Settings) -> str:
    """The key new tokens are signed with (AWSCURRENT, or the raw local key)."""
    if config.jwt_secret:
        return config.jwt_secret
    return _value(aws.client("secretsmanager"), config.jwt_secret_arn, "AWSCURRENT") or ""


def clear_cache() -> None:
    """Forget cached keys (tests)."""
    _cache.clear()


def _ring(config: Settings, *, refresh: bool = False) -> tuple[KeyRing, float]:
    """The keys (cached per secret) and their age in seconds."""
    if config.jwt_secret:  # local and tests: one raw key
        return KeyRing(config.jwt_secret), 0.0
    arn = config.jwt_secret_arn
    if not arn:
        raise MisconfiguredSecret("neither WS_JWT_SECRET nor WS_JWT_SECRET_ARN is set")
    cached = _cache.get(arn)
    if cached:
        age = time.monotonic() - cached[0]
        if age < REFRESH_AFTER_SECONDS or (age < CACHE_SECONDS and not refresh):
            return cached[1], age
    ring = _read(arn)
    _cache[arn] = (time.monotonic(), ring)
    return ring, 0.0


def _read(arn: str) -> KeyRing:
    client = aws.client("secretsmanager")
    current = _version(client, arn, "AWSCURRENT")
    if not current or not current.get("SecretString"):
        raise MisconfiguredSecret("the JWT secret is empty")
    previous = _version(client, arn, "AWSPREVIOUS") or {}
    if not previous.get("SecretString"):
        return KeyRing(current["SecretString"])
    # The current version's CreatedDate (GetSecretValue returns it) is when the rotation began.
    made = current.get("CreatedDate")
    rotated_at = int(made.timestamp()) if made else 0  # no date: the previous key gets no window
    return KeyRing(
        current["SecretString"], previous["SecretString"], rotated_at + PREVIOUS_KEY_WINDOW_SECONDS
    )


def _value(client: Any, arn: str, stage: str) -> str | None:
    return (_version(client, arn, stage) or {}).get("SecretString")


def _version(client: Any, arn: str, stage: str) -> dict[str, Any] | None:
    try:
        return client.get_secret_value(SecretId=arn, VersionStage=stage)
    except ClientError as err:
        # Before the first rotation there is no AWSPREVIOUS: not an error.
        if stage != "AWSCURRENT" and err.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            return None
        raise
