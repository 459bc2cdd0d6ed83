"""Agent token verification for `$connect` (HS256 JWT, short-lived, all claims required).

Tokens name their key with `kid`; lambdas/common/keys.py holds the keys (WS_JWT_SECRET: raw,
for local runs and tests only; WS_JWT_SECRET_ARN: Secrets Manager's current and previous
versions). An empty key is a misconfiguration that rejects every token: a token is never
trusted without verifying its signature.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import jwt

from lambdas.common import keys
from lambdas.common.keys import MisconfiguredSecret

__all__ = ["AgentIdentity", "MisconfiguredSecret", "TokenRejected", "key_for", "mint_token", "verify_token"]
from lambdas.common.protocol import is_id
from lambdas.common.reserved import PROBE_CLAIM, is_probe
from lambdas.common.settings import Settings

MAX_LIFETIME_SECONDS = 900
# How far the issuer's clock may run ahead of (or behind) ours: `iat`, `nbf` and `exp` are checked
# with this leeway (PyJWT's), so a token minted 3 s "in the future" by a slightly fast clock is
# accepted and one 31 s ahead is not. The lifetime check (exp - iat) takes no leeway.
CLOCK_SKEW_SECONDS = 30
REQUIRED_CLAIMS = ["agentId", "creatorId", "exp", "iat"]


class TokenRejected(Exception):
    """The token is not acceptable; `why` is for logs only (never the token itself)."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


@dataclass(frozen=True)
class AgentIdentity:
    agent_id: str
    creator_id: str
    issued_at: int = 0
    expires_at: int = 0
    key_id: str = ""  # the kid of the key that signed the token (an emergency rotation closes by it)


def key_for(token: str | None, config: Settings) -> str:
    """The key that verifies `token`, chosen by its `kid` among the keys accepted now.

    A kid other than the current key's may name a key rotated in since we read the secret, or a
    previous key since retired: the keys are read again (at most every REFRESH_AFTER_SECONDS),
    then a kid that names no accepted key is refused (lambdas/common/keys.py).
    """
    if not token:
        raise TokenRejected("no token")
    try:
        kid = jwt.get_unverified_header(token).get("kid")
    except jwt.PyJWTError as err:
        raise TokenRejected(type(err).__name__) from None
    if not isinstance(kid, str) or not kid:
        raise TokenRejected("no kid")
    _refuse_stale(token)
    key = keys.key_named(config, kid)
    if key is None:
        raise TokenRejected("unknown kid")
    return key


# The unverified pre-check refuses only what verify_token would refuse too, whatever clock skew the
# contract allows (at most 30 s): a token expired by more than this, or living longer than allowed.
PRECHECK_SLACK_SECONDS = 60


def _refuse_stale(token: str) -> None:
    """Refuse a token that cannot pass verify_token before any key is looked up (no AWS call).

    A `$connect` flood of replayed or expired tokens then costs ws-connect no Secrets Manager read,
    not even under an unknown kid (which would read the keys again); its signature is not checked
    here, so nothing it says is trusted: it can only be refused sooner.
    """
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as err:
        raise TokenRejected(type(err).__name__) from None
    if not isinstance(claims, dict) or "exp" not in claims or "iat" not in claims:
        raise TokenRejected("MissingRequiredClaimError")  # the names verify_token would log
    exp, _iat = _lifetime(claims)
    if exp < time.time() - PRECHECK_SLACK_SECONDS:
        raise TokenRejected("ExpiredSignatureError")


def _lifetime(claims: dict[str, Any]) -> tuple[float, float]:
    """(exp, iat), both numbers, at most MAX_LIFETIME_SECONDS apart; else TokenRejected."""
    exp, iat = claims.get("exp"), claims.get("iat")
    if not isinstance(exp, int | float) or not isinstance(iat, int | float):
        raise TokenRejected("exp/iat are not numbers")
    if exp - iat > MAX_LIFETIME_SECONDS:
        raise TokenRejected("lifetime over 15 minutes")
    return exp, iat


def mint_token(
    key: str,
    agent_id: str,
    creator_id: str,
    *,
    lifetime_s: int = 600,
    now: int | None = None,
    probe: bool = False,
) -> str:
    """A token `verify_token` accepts: agentId, creatorId, iat, exp = iat + lifetime_s.

    The one minting function, beside the one verifier: the on-call CLI and the sandbox use it;
    the handlers only verify, except the black-box probe, the one caller with `probe=True`
    (the claim that lets a token name the reserved probe creator: lambdas/common/reserved.py).
    """
    if not 0 < lifetime_s <= MAX_LIFETIME_SECONDS:
        raise ValueError(f"invalid token lifetime {lifetime_s}s: allowed 1-{MAX_LIFETIME_SECONDS}s")
    issued = int(time.time()) if now is None else now
    claims = {"agentId": agent_id, "creatorId": creator_id, "iat": issued, "exp": issued + lifetime_s}
    if probe:
        claims[PROBE_CLAIM] = True
    return jwt.encode(claims, key, algorithm="HS256", headers={"kid": keys.key_id(key)})


def verify_token(token: str | None, key: str) -> AgentIdentity:
    """Verify signature, algorithm, required claims, expiry and lifetime; return the identity.

    `iat`/`nbf`/`exp` are compared with the clock allowing CLOCK_SKEW_SECONDS either way.
    """
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
            leeway=CLOCK_SKEW_SECONDS,
        )
    except jwt.InvalidKeyError as err:
        raise MisconfiguredSecret(f"the JWT secret is unusable: {err}") from None
    except jwt.PyJWTError as err:
        raise TokenRejected(type(err).__name__) from None
    exp, iat = _lifetime(claims)
    agent_id, creator_id = claims["agentId"], claims["creatorId"]
    for name, value in (("agentId", agent_id), ("creatorId", creator_id)):
        if not is_id(value):
            raise TokenRejected(f"{name} is not an id")
    # The probe's creator is reserved: only the probe's own tokens name it, and only they carry the claim.
    if is_probe(creator_id) != (claims.get(PROBE_CLAIM) is True):
        raise TokenRejected("reserved probe identity")
    return AgentIdentity(agent_id, creator_id, int(iat), int(exp), keys.key_id(key))
