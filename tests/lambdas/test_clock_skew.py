"""Token time claims allow a small clock skew (auth.CLOCK_SKEW_SECONDS), both sides of its bound.

The wall clock is stopped 0.9 s into a second (time_machine, as in test_token_keys), so minting and
verifying see one instant however slow the machine: the bounds below are exact.
"""

from __future__ import annotations

import time

import jwt
import pytest
import time_machine

from lambdas.common import auth
from lambdas.common.auth import TokenRejected, verify_token
from tests.lambdas import helpers as h


@pytest.fixture
def second():
    start = int(time.time())
    with time_machine.travel(start + 0.9, tick=False):
        yield start


def _token(*, iat: int, exp: int, **extra: int) -> str:
    claims = {"agentId": "agent-1", "creatorId": "creator-1", "iat": iat, "exp": exp, **extra}
    return jwt.encode(claims, h.SECRET, algorithm="HS256")


def test_token_issued_3s_ahead_of_the_server_clock_is_accepted(second):
    # the attack (issue 21): an issuer clock 3 s fast had its fresh token refused (iat in the future)
    identity = verify_token(_token(iat=second + 3, exp=second + 603), h.SECRET)
    assert (identity.agent_id, identity.issued_at) == ("agent-1", second + 3)


def test_token_issued_31s_ahead_is_refused_and_30s_ahead_is_not(second):
    assert auth.CLOCK_SKEW_SECONDS == 30
    assert verify_token(_token(iat=second + 30, exp=second + 630), h.SECRET).issued_at == second + 30
    with pytest.raises(TokenRejected) as refused:
        verify_token(_token(iat=second + 31, exp=second + 631), h.SECRET)
    assert refused.value.why == "ImmatureSignatureError"


def test_expiry_takes_the_same_skew_and_no_more(second):
    # exp 0.9 s + 29 s in the past: within the skew; 0.9 s + 30 s: past it
    assert verify_token(_token(iat=second - 600, exp=second - 29), h.SECRET).expires_at == second - 29
    with pytest.raises(TokenRejected) as refused:
        verify_token(_token(iat=second - 600, exp=second - 30), h.SECRET)
    assert refused.value.why == "ExpiredSignatureError"


def test_not_before_takes_the_same_skew(second):
    assert verify_token(_token(iat=second, exp=second + 600, nbf=second + 30), h.SECRET).agent_id == "agent-1"
    with pytest.raises(TokenRejected) as refused:
        verify_token(_token(iat=second, exp=second + 600, nbf=second + 31), h.SECRET)
    assert refused.value.why == "ImmatureSignatureError"


def test_the_lifetime_bound_takes_no_skew(second):
    with pytest.raises(TokenRejected) as refused:
        verify_token(_token(iat=second, exp=second + auth.MAX_LIFETIME_SECONDS + 1), h.SECRET)
    assert refused.value.why == "lifetime over 15 minutes"
