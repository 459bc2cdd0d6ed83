"""Revoked tokens are refused at $connect; revoked or long-expired connections close at their next frame."""

from __future__ import annotations

import time

import boto3
import pytest
from botocore.exceptions import ClientError

from automation.scripts.revoke_tokens import revoke_tokens
from lambdas.common import connections
from lambdas.common.connections import MAX_TOKEN_OVERRUN_SECONDS, agent_key
from lambdas.common.revocation import MARK_TTL_SECONDS
from lambdas.ws_connect.handler import handler as connect
from lambdas.ws_message.handler import handler as message
from tests.lambdas import helpers as h
from tests.lambdas.conftest import NOW

OK, UNAUTHORIZED = {"statusCode": 200}, {"statusCode": 401}


def _connect(agent: str, creator: str, conn: str, **token_args) -> dict:
    return connect(h.connect_event(h.token(agent, creator, **token_args), conn), None)


def _revoke(creator: str, agent: str | None = None, at: float | None = None, api=None) -> dict:
    if api is None:
        api = boto3.client("apigatewaymanagementapi", endpoint_url=h.ENV["WS_ENDPOINT"], region_name=h.REGION)
    return revoke_tokens(
        h.ddb(),
        api,
        agents_table=h.ENV["AGENTS_TABLE"],
        limits_table=h.ENV["CREATOR_LIMITS_TABLE"],
        creator_id=creator,
        agent_id=agent,
        now=lambda: time.time() if at is None else at,
    )


def test_the_script_keys_the_agent_item_as_the_handlers_do():
    from automation.scripts.revoke_tokens import _agent_pk

    assert {"pk": {"S": _agent_pk("c-1", "a-1")}} == agent_key("c-1", "a-1")


def test_revoking_an_agent_refuses_its_older_tokens_only(clock, out):
    # GIVEN tokens issued before the revocation, for two agents of creator-1 and a same-named one elsewhere
    issued = int(time.time()) - 10
    revoked = _revoke("creator-1", "agent-1", at=issued + 5)
    assert (revoked["tokensValidAfter"], revoked["closed"]) == (issued + 5, 0)
    # THEN the revoked agent's old token is refused; a token issued after the revocation connects
    assert _connect("agent-1", "creator-1", "conn-1", iat=issued) == UNAUTHORIZED
    assert "ws_connect_rejected reason=token_revoked" in out.messages()
    assert h.conn("conn-1") is None
    assert _connect("agent-1", "creator-1", "conn-1b", iat=issued + 6) == OK
    # AND neither the creator's other agent nor another creator's agent-1 is affected
    assert _connect("agent-2", "creator-1", "conn-2", iat=issued) == OK
    assert _connect("agent-1", "creator-2", "conn-3", iat=issued) == OK


def test_revoking_a_creator_refuses_all_its_agents_and_closes_their_connections(clock, out):
    # GIVEN two agents of creator-1 and one of creator-2 connected
    for agent, creator, conn in (
        ("agent-1", "creator-1", "c1"),
        ("agent-2", "creator-1", "c2"),
        ("agent-1", "creator-2", "c3"),
    ):
        assert _connect(agent, creator, conn) == OK
    # WHEN creator-1's tokens are revoked (the boundary: issued in the same second is revoked too)
    summary = _revoke("creator-1", at=time.time() + 1)
    # THEN both of creator-1's connections were closed and marked; creator-2's stays
    assert summary["closed"] == 2
    assert (h.conn("c1")["revoked"], h.conn("c2")["revoked"]) == (True, True)
    assert "revoked" not in h.conn("c3")
    assert _connect("agent-2", "creator-1", "c4") == UNAUTHORIZED
    assert _connect("agent-9", "creator-2", "c5") == OK


def test_a_revoked_connection_is_closed_at_its_next_frame(clock, out, api):
    # GIVEN a connection revoked while DeleteConnection could not reach it
    assert _connect("agent-1", "creator-1", "conn-1") == OK
    h.ddb().update_item(
        TableName=h.ENV["AGENTS_TABLE"],
        Key={"pk": {"S": "conn#conn-1"}},
        UpdateExpression="SET revoked = :t",
        ExpressionAttributeValues={":t": {"BOOL": True}},
    )
    # WHEN it sends a heartbeat
    assert message(h.message_event({"action": "heartbeat"}, "conn-1"), None) == OK
    # THEN it is told why, closed and forgotten; the agent is offline
    assert api.frames[-1]["code"] == "token_revoked" and api.closed == ["conn-1"]
    assert h.conn("conn-1") is None and "connectionId" not in h.agent("agent-1")
    assert "ws_connection_closed reason=token_revoked" in out.messages()


@pytest.mark.parametrize(
    ("past_expiry", "closed"), [(MAX_TOKEN_OVERRUN_SECONDS, False), (MAX_TOKEN_OVERRUN_SECONDS + 1, True)]
)
def test_a_connection_may_outlive_its_token_by_a_bounded_time(clock, out, api, past_expiry, closed):
    # GIVEN a connection made with a 10-minute token
    assert _connect("agent-1", "creator-1", "conn-1") == OK
    expires = int(h.conn("conn-1")["tokenExpiresAt"])
    # WHEN it sends a frame `past_expiry` seconds after its token expired
    clock.set(expires + past_expiry)
    assert message(h.message_event({"action": "heartbeat"}, "conn-1"), None) == OK
    # THEN it is answered up to the bound, and closed (token_expired) past it
    last = api.frames[-1]
    if closed:
        assert (last["type"], last["code"], api.closed) == ("error", "token_expired", ["conn-1"])
        assert h.conn("conn-1") is None
    else:
        assert (last["type"], api.closed) == ("ack", []) and h.conn("conn-1") is not None


def _frame(body: dict, conn: str, api) -> dict:
    """Send one frame on `conn`; the last frame the backend sent to it."""
    assert message(h.message_event(body, conn), None) == OK
    return api.frames_to(conn)[-1]


@pytest.mark.parametrize("supersede_fails", [False, True], ids=["superseded", "supersede_failed"])
def test_attack_leaked_token_connected_first_is_shut_out_after_revoke(
    clock, out, api, monkeypatch, supersede_fails
):
    # GIVEN a leaked token connected first (conn-leak), then the real agent reconnected (conn-real)
    # (supersede_failed: closing conn-leak at that reconnect failed, so it stayed open), and the
    # agent holds job-1
    leaked = h.token("agent-1", "creator-1")
    assert connect(h.connect_event(leaked, "conn-leak"), None) == OK
    with pytest.MonkeyPatch.context() as patch:
        if supersede_fails:
            patch.setattr(connections, "forget", _throttled)
        assert _connect("agent-1", "creator-1", "conn-real") == OK
    assert (h.conn("conn-leak") is not None) == supersede_fails
    h.put_job("job-1", "running", leaseState="active", leaseExpiresAt=NOW + 300)
    # WHEN the operator revokes the agent (after both tokens were issued)
    summary = _revoke("creator-1", "agent-1", at=time.time() + 1, api=api)
    # THEN every connection of the agent is closed, the attacker's as well as the current one
    assert set(api.closed) == {"conn-leak", "conn-real"} and summary["unreachable"] == 0
    # AND the attacker's frames are refused: no forged result, no upload form, no pause
    forged = {"action": "job.result", "jobId": "job-1", "status": "completed", "result": {"forged": True}}
    for body in (forged, {"action": "logs.upload"}, {"action": "agent.pause", "reason": "forged"}):
        assert _frame(body, "conn-leak", api)["code"] in ("token_revoked", "not_connected")
    assert (h.job("job-1")["status"], "result" in h.job("job-1")) == ("running", False)
    assert not (h.creator_limits("creator-1") or {}).get("paused")
    assert not [frame for frame in api.frames_to("conn-leak") if frame["type"] == "logs.upload"]
    # AND a new $connect with the leaked token is refused
    assert connect(h.connect_event(leaked, "conn-leak-2"), None) == UNAUTHORIZED


def _throttled(*_: object) -> bool:
    error = {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "throttled"}}
    raise ClientError(error, "DeleteItem")  # type: ignore[arg-type]


def test_attack_revoke_whose_delete_connection_fails_still_cuts_every_connection(clock, out, api):
    # GIVEN two agents of creator-1 connected, and DeleteConnection failing (throttled)
    assert _connect("agent-1", "creator-1", "conn-1") == OK
    assert _connect("agent-2", "creator-1", "conn-2") == OK
    api.refuse_deletes = "LimitExceededException"
    # WHEN the creator is revoked
    summary = _revoke("creator-1", at=time.time() + 1, api=api)
    # THEN the script goes through every connection and says which ones it could not close
    assert (summary["closed"], summary["unreachable"], sorted(api.closed)) == (2, 2, ["conn-1", "conn-2"])
    # AND each connection is cut off at its next frame: told why, closed and forgotten
    api.refuse_deletes = None
    for conn in ("conn-1", "conn-2"):
        assert _frame({"action": "heartbeat"}, conn, api)["code"] == "token_revoked"
        assert h.conn(conn) is None
    assert api.closed[-2:] == ["conn-1", "conn-2"]


def test_attack_connection_the_revocation_missed_is_cut_off_within_a_minute(clock, out, api):
    # GIVEN agent-1 connected and answered once (this container read its revocation mark: none)
    issued = int(time.time())
    assert _connect("agent-1", "creator-1", "conn-1", iat=issued) == OK
    assert _frame({"action": "heartbeat"}, "conn-1", api)["type"] == "ack"
    # WHEN a revocation sets the mark but never reaches the connection (registered while the
    # revocation scanned, or its DeleteConnection lost): nothing marks or closes conn-1
    h.ddb().update_item(
        TableName=h.ENV["AGENTS_TABLE"],
        Key=agent_key("creator-1", "agent-1"),
        UpdateExpression="SET tokensValidAfter = :t",
        ExpressionAttributeValues={":t": {"N": str(issued)}},
    )
    # THEN the mark, cached at most MARK_TTL_SECONDS, still answers the frame just before the bound
    clock.set(NOW + MARK_TTL_SECONDS - 1)
    assert _frame({"action": "heartbeat"}, "conn-1", api)["type"] == "ack"
    # AND at the bound the connection is told why, closed and forgotten; the agent is offline
    clock.set(NOW + MARK_TTL_SECONDS)
    assert _frame({"action": "heartbeat"}, "conn-1", api)["code"] == "token_revoked"
    assert (api.closed, h.conn("conn-1")) == (["conn-1"], None)
    assert "connectionId" not in h.agent("agent-1")
    assert "ws_connection_closed reason=token_revoked" in out.messages()


def test_a_token_issued_after_the_revocation_keeps_its_connection(clock, out, api):
    # GIVEN the agent revoked a second before it reconnected with a fresh token
    issued = int(time.time())
    _revoke("creator-1", "agent-1", at=issued - 1, api=api)
    assert _connect("agent-1", "creator-1", "conn-2", iat=issued) == OK
    # THEN its frames are answered: the mark refuses older tokens only
    assert _frame({"action": "heartbeat"}, "conn-2", api)["type"] == "ack"
    assert h.conn("conn-2") is not None and api.closed == []


def test_a_creator_wide_revocation_is_read_by_ws_message(clock, out, api):
    # GIVEN a connection whose item was never marked, and a creator-wide mark covering its token
    issued = int(time.time())
    assert _connect("agent-1", "creator-1", "conn-1", iat=issued) == OK
    h.put_limits("creator-1", tokensValidAfter=issued)
    # THEN its next frame closes it
    assert _frame({"action": "heartbeat"}, "conn-1", api)["code"] == "token_revoked"
    assert h.conn("conn-1") is None
