"""Revoked tokens are refused at $connect; revoked or long-expired connections close at their next frame."""

from __future__ import annotations

import time

import boto3
import pytest

from automation.scripts.revoke_tokens import revoke_tokens
from lambdas.common.connections import MAX_TOKEN_OVERRUN_SECONDS, agent_key
from lambdas.ws_connect.handler import handler as connect
from lambdas.ws_message.handler import handler as message
from tests.lambdas import helpers as h

OK, UNAUTHORIZED = {"statusCode": 200}, {"statusCode": 401}


def _connect(agent: str, creator: str, conn: str, **token_args) -> dict:
    return connect(h.connect_event(h.token(agent, creator, **token_args), conn), None)


def _revoke(creator: str, agent: str | None = None, at: float | None = None) -> dict:
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


class _Recorder:
    """The management API as the handlers see it, recording frames and closes (moto forgets a
    deleted connection's frames)."""

    def __init__(self) -> None:
        self._api = boto3.client(
            "apigatewaymanagementapi", endpoint_url=h.ENV["WS_ENDPOINT"], region_name=h.REGION
        )
        self.frames: list[dict] = []
        self.closed: list[str] = []

    def post_to_connection(self, *, ConnectionId: str, Data: bytes) -> dict:  # noqa: N803
        import json

        self.frames.append(json.loads(Data))
        return self._api.post_to_connection(ConnectionId=ConnectionId, Data=Data)

    def delete_connection(self, *, ConnectionId: str) -> dict:  # noqa: N803
        self.closed.append(ConnectionId)
        return self._api.delete_connection(ConnectionId=ConnectionId)


@pytest.fixture
def api(queues):
    from lambdas.common import aws

    recorder = _Recorder()
    aws.override("apigatewaymanagementapi", recorder)
    return recorder


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
