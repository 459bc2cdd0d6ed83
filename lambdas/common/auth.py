"""Agent token verification for `$connect` (HS256 JWT, short-lived, all claims required).

The key comes from WS_JWT_SECRET (raw; local and tests) or WS_JWT_SECRET_ARN (Secrets
Manager, cached per container). An empty key is a misconfiguration that rejects every
token: a token is never trusted without verifying its signature.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import jwt

from lambdas.common import aws
from lambdas.common.protocol import ID_PATTERN
from lambdas.common.settings import Settings

MAX_LIFETIME_SECONDS = 900
REQUIRED_CLAIMS = ["agentId", "creatorId", "exp", "iat"]
SECRET_CACHE_SECONDS = 300  # picks up a rotated key within five minutes
_secret_cache: dict[str, tuple[float, str]] = {}


class TokenRejected(Exception):
    """The token is not acceptable; `why` is for logs only (never the token itself)."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


class MisconfiguredSecret(Exception):
    """No usable signing key is configured."""


@dataclass(frozen=True)
class AgentIdentity:
    agent_id: str
    creator_id: str


def signing_key(config: Settings) -> str:
    """The HS256 key; raises MisconfiguredSecret when it is empty or unset."""
    if config.jwt_secret:
        return config.jwt_secret
    arn = config.jwt_secret_arn
    if not arn:
        raise MisconfiguredSecret("neither WS_JWT_SECRET nor WS_JWT_SECRET_ARN is set")
    cached = _secret_cache.get(arn)
    if cached and time.monotonic() - cached[0] < SECRET_CACHE_SECONDS:
        return cached[1]
    value = aws.client("secretsmanager").get_secret_value(SecretId=arn).get("SecretString") or ""
    if not value:
        raise MisconfiguredSecret("the JWT secret is empty")
    _secret_cache[arn] = (time.monotonic(), value)
    return value


def clear_secret_cache() -> None:
    """Forget cached keys (tests)."""
    _secret_cache.clear()


def mint_token(
    key: str, agent_id: str, creator_id: str, *, lifetime_s: int = 600, now: int | None = None
) -> str:
    """A token `verify_token` accepts: agentId, creatorId, iat, exp = iat + lifetime_s.

    The one minting function, beside the one verifier: the on-call CLI and the sandbox use it;
    the handlers only verify.
    """
    if not 0 < lifetime_s <= MAX_LIFETIME_SECONDS:
        raise ValueError(f"invalid token lifetime {lifetime_s}s: allowed 1-{MAX_LIFETIME_SECONDS}s")
    issued = int(time.time()) if now is None else now
    claims = {"agentId": agent_id, "creatorId": creator_id, "iat": issued, "exp": issued + lifetime_s}
    return jwt.encode(claims, key, algorithm="HS256")


def verify_token(token: str | None, key: str) -> AgentIdentity:
    """Verify signature, algorithm, required claims, expiry and lifetime; return the identity."""
    if not key:
        raise MisconfiguredSecret("the JWT secret is empty")
    if not token:
        raise TokenRejected("no token")
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=["HS256"],
            options={"require": REQUIRED_CLAIMS, "enforce_minimum_key_length": True},
        )
    except jwt.InvalidKeyError as err:
        raise MisconfiguredSecret(f"the JWT secret is unusable: {err}") from None
    except jwt.PyJWTError as err:
        raise TokenRejected(type(err).__name__) from None
    exp, iat = claims["exp"], claims["iat"]
    if not isinstance(exp, int | float) or not isinstance(iat, int | float):
        raise TokenRejected("exp/iat are not numbers")
    if exp - iat > MAX_LIFETIME_SECONDS:
        raise TokenRejected("lifetime over 15 minutes")
    agent_id, creator_id = claims["agentId"], claims["creatorId"]
    for name, value in (("agentId", agent_id), ("creatorId", creator_id)):
        if not isinstance(value, str) or not ID_PATTERN.match(value):
            raise TokenRejected(f"{name} is not an id")
    return AgentIdentity(agent_id, creator_id)
