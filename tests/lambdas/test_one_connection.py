"""One live connection per agent: a new `$connect` supersedes the agent's previous connection."""

from __future__ import annotations

import pytest

from lambdas.ws_connect.handler import handler as connect
from lambdas.ws_disconnect.handler import handler as disconnect
from lambdas.ws_message.handler import handler as message
from tests.lambdas import helpers as h

OK = {"statusCode": 200}


def _closed_by_api(connection_id: str) -> dict:
    """The `$disconnect` API Gateway sends after DeleteConnection (a normal closure, 1000)."""
    event = h.disconnect_event(connection_id)
    event["requestContext"]["disconnectStatusCode"] = 1000
    return event


def test_attack_one_token_four_connections_only_the_newest_is_live(clock, out, api):
    # GIVEN one token of agent-1
    token = h.token("agent-1", "creator-1")
    # WHEN it opens 4 connections
    for conn in ("conn-1", "conn-2", "conn-3", "conn-4"):
        assert connect(h.connect_event(token, conn), None) == OK
    # THEN each new one closed the one before: told why, then DeleteConnection; only conn-4 is known
    assert api.closed == ["conn-1", "conn-2", "conn-3"]
    for conn in ("conn-1", "conn-2", "conn-3"):
        assert [frame["code"] for frame in api.frames_to(conn)] == ["superseded"]
        assert h.conn(conn) is None
    assert h.agent("agent-1")["connectionId"] == "conn-4"
    assert out.messages().count("ws_connection_closed reason=superseded") == 3
    # AND the closed ones get nothing (no upload form), the live one is served
    for conn in ("conn-1", "conn-2", "conn-3"):
        assert message(h.message_event({"action": "logs.upload"}, conn), None) == OK
        assert api.frames_to(conn)[-1]["code"] == "not_connected"
    assert message(h.message_event({"action": "logs.upload"}, "conn-4"), None) == OK
    assert api.frames_to("conn-4")[-1]["type"] == "logs.upload"


def test_a_superseded_connections_disconnect_is_no_goodbye_and_keeps_the_new_one(clock, out, api):
    # GIVEN agent-1 reconnected (conn-2 superseded conn-1)
    assert connect(h.connect_event(h.token(), "conn-1"), None) == OK
    assert connect(h.connect_event(h.token(), "conn-2"), None) == OK
    # WHEN conn-1's $disconnect arrives (API Gateway closed it: code 1000)
    assert disconnect(_closed_by_api("conn-1"), None) == OK
    # THEN the agent is still online on conn-2, and said no goodbye
    agent = h.agent("agent-1")
    assert (agent["connectionId"], "goodbyeAt" in agent) == ("conn-2", False)
    assert h.conn("conn-2") is not None
    assert out.messages()[-1] == "agent_disconnected code=1000 goodbye=false"


def test_a_reconnect_after_a_disconnect_supersedes_nothing(clock, out, api):
    # GIVEN agent-1's connection ended (its $disconnect ran)
    assert connect(h.connect_event(h.token(), "conn-1"), None) == OK
    assert disconnect(_closed_by_api("conn-1"), None) == OK
    # WHEN it reconnects
    assert connect(h.connect_event(h.token(), "conn-2"), None) == OK
    # THEN nothing is closed
    assert api.closed == [] and api.sent == []


@pytest.mark.parametrize(
    ("agent", "creator"), [("agent-2", "creator-1"), ("agent-1", "creator-2")], ids=["sibling", "namesake"]
)
def test_another_agents_connect_leaves_this_one_alone(clock, out, api, agent, creator):
    # GIVEN agent-1 of creator-1 connected
    assert connect(h.connect_event(h.token(), "conn-1"), None) == OK
    # WHEN the creator's other agent, or another creator's agent-1, connects
    assert connect(h.connect_event(h.token(agent, creator), "conn-2"), None) == OK
    # THEN agent-1's connection stays
    assert api.closed == [] and h.agent("agent-1")["connectionId"] == "conn-1"
    assert h.conn("conn-1") is not None


def test_a_failed_close_of_the_old_connection_does_not_refuse_the_new_one(clock, out, api):
    # GIVEN agent-1 connected, and DeleteConnection failing (throttled)
    assert connect(h.connect_event(h.token(), "conn-1"), None) == OK
    api.refuse_deletes = "LimitExceededException"
    # WHEN it reconnects
    assert connect(h.connect_event(h.token(), "conn-2"), None) == OK
    # THEN the new connection is the agent's; the old one is forgotten (its frames: not_connected)
    assert h.agent("agent-1")["connectionId"] == "conn-2"
    assert (api.closed, h.conn("conn-1")) == (["conn-1"], None)
