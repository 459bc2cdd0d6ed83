"""Agent JWTs (HS256) signed with the stage's secret, as ws-connect expects them."""

from __future__ import annotations

import time

import jwt

MAX_LIFETIME_S = 15 * 60  # ws-connect rejects tokens living longer than this


def mint_token(secret: str, agent_id: str, creator_id: str, lifetime_s: int = 600) -> str:
    """A short-lived agent token with the claims ws-connect requires."""
    if not 0 < lifetime_s <= MAX_LIFETIME_S:
        raise ValueError(f"invalid token lifetime {lifetime_s}s: allowed 1-{MAX_LIFETIME_S}s")
    now = int(time.time())
    claims = {"agentId": agent_id, "creatorId": creator_id, "iat": now, "exp": now + lifetime_s}
    return jwt.encode(claims, secret, algorithm="HS256")
