"""ws-connect's connect SLI: every `$connect` counts once, by reason, in one EMF line (Stage only)."""

from __future__ import annotations

import time

import pytest
from botocore.exceptions import ClientError

from lambdas.common import connections
from lambdas.common.metrics import CONNECT_OUTCOMES
from lambdas.ws_connect.handler import handler as connect
from tests.lambdas import helpers as h


def _counted(out) -> list[dict[str, int]]:
    """Each EMF line's `$connect` outcome counts."""
    names = set(CONNECT_OUTCOMES.values())
    return [{k: v for k, v in doc.items() if k in names} for doc in out.emf()]


def _refuse(monkeypatch, code: str) -> None:
    """The agents table refuses ws-connect's write with `code` (the connect-denied outage)."""

    def refused(*_a, **_k):
        raise ClientError({"Error": {"Code": code, "Message": "no"}}, "PutItem")

    monkeypatch.setattr(connections, "register", refused)


def test_the_reasons_are_a_small_fixed_set_of_metrics():
    assert CONNECT_OUTCOMES == {
        "ok": "ConnectOk",
        "token_invalid": "ConnectTokenInvalid",
        "revoked": "ConnectRevoked",
        "secret_unavailable": "ConnectSecretUnavailable",
        "register_failed": "ConnectRegisterFailed",
        "throttled": "ConnectThrottled",
    }


def test_an_accepted_connect_counts_ok_in_one_emf_line_with_the_stage_only(queues, clock, out):
    # WHEN an agent connects with a valid token
    assert connect(h.connect_event(h.token("agent-1"), "conn-1"), None) == {"statusCode": 200}
    # THEN one EMF line, Huntaze/ByoIP, dimension Stage, ConnectOk = 1 and nothing else
    (doc,) = out.emf()
    assert doc["_aws"]["CloudWatchMetrics"] == [
        {
            "Namespace": "Huntaze/ByoIP",
            "Dimensions": [["Stage"]],
            "Metrics": [{"Name": "ConnectOk", "Unit": "Count"}],
        }
    ]
    assert (doc["ConnectOk"], doc["Stage"], doc["_aws"]["Timestamp"]) == (1, "test", clock.value * 1000)


def test_a_bad_token_counts_token_invalid_and_answers_401(queues, clock, out):
    assert connect(h.connect_event("not.a.jwt", "conn-x"), None) == {"statusCode": 401}
    assert _counted(out) == [{"ConnectTokenInvalid": 1}]


def test_a_revoked_token_counts_revoked_and_answers_401(queues, clock, out):
    # GIVEN the creator's tokens issued up to now (the wall clock: PyJWT checks `exp` with it) are revoked
    issued = int(time.time()) - 10
    h.put_limits("creator-1", tokensValidAfter=issued + 5)
    # WHEN an agent connects with a token issued before
    tok = h.token("agent-1", iat=issued)
    assert connect(h.connect_event(tok, "conn-r"), None) == {"statusCode": 401}
    # THEN not recorded, counted as the client's `revoked`
    assert h.conn("conn-r") is None
    assert _counted(out) == [{"ConnectRevoked": 1}]
    assert out.messages() == ["ws_connect_rejected reason=token_revoked"]


@pytest.mark.parametrize(
    ("code", "reason", "metric"),
    [
        ("AccessDeniedException", "register_failed", "ConnectRegisterFailed"),
        ("InternalServerError", "register_failed", "ConnectRegisterFailed"),
        ("ProvisionedThroughputExceededException", "throttled", "ConnectThrottled"),
        ("ThrottlingException", "throttled", "ConnectThrottled"),
    ],
)
def test_a_refused_write_is_a_503_of_ours_counted_by_reason(
    code, reason, metric, monkeypatch, queues, clock, out
):
    # GIVEN the agents table refuses ws-connect's write
    _refuse(monkeypatch, code)
    # WHEN an agent with a valid token connects
    response = connect(h.connect_event(h.token("agent-1"), "conn-d"), None)
    # THEN 503 (the agent retries with backoff), the reason logged and counted, the agent unchanged
    assert response == {"statusCode": 503}
    assert out.messages() == [f"ws_connect_failed reason={reason}"]
    assert _counted(out) == [{metric: 1}]
    assert h.agent("agent-1") is None


def test_a_throttled_secret_read_counts_throttled(monkeypatch, queues, clock, out):
    from lambdas.common import keys

    def throttled(*_a, **_k):
        raise ClientError(
            {"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "GetSecretValue"
        )

    monkeypatch.setattr(keys, "key_named", throttled)
    assert connect(h.connect_event(h.token("agent-1"), "conn-t"), None) == {"statusCode": 503}
    assert out.messages() == ["ws_connect_failed reason=throttled"]
    assert _counted(out) == [{"ConnectThrottled": 1}]


def test_each_connect_counts_exactly_once(monkeypatch, queues, clock, out):
    # GIVEN an accepted connect, a bad token and a refused write, one after the other
    connect(h.connect_event(h.token("agent-1"), "conn-1"), None)
    connect(h.connect_event(None, "conn-2"), None)
    _refuse(monkeypatch, "AccessDeniedException")
    connect(h.connect_event(h.token("agent-2"), "conn-3"), None)
    # THEN three lines, one count each
    assert _counted(out) == [{"ConnectOk": 1}, {"ConnectTokenInvalid": 1}, {"ConnectRegisterFailed": 1}]
