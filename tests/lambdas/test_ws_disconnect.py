"""ws-disconnect: forget the connection without clobbering a newer one."""

from __future__ import annotations

from lambdas.ws_connect.handler import handler as connect
from lambdas.ws_disconnect.handler import handler as disconnect
from tests.lambdas import helpers as h


def test_disconnect_removes_the_connection_and_marks_the_agent_offline(online, clock, out):
    assert disconnect(h.disconnect_event("conn-1"), None) == {"statusCode": 200}
    assert h.conn("conn-1") is None
    assert "connectionId" not in h.agent("agent-1")


def test_late_disconnect_of_an_old_connection_keeps_the_new_one(online, clock, out):
    # GIVEN the agent reconnected as conn-2 before conn-1's $disconnect arrived
    connect(h.connect_event(h.token("agent-1"), "conn-2"), None)
    # WHEN conn-1 disconnects
    assert disconnect(h.disconnect_event("conn-1"), None) == {"statusCode": 200}
    # THEN conn-2 is still the agent's connection
    assert h.agent("agent-1")["connectionId"] == "conn-2"
    assert h.conn("conn-2")["agentId"] == "agent-1" and h.conn("conn-1") is None


def test_disconnect_of_an_unknown_connection_is_harmless(queues, clock, out):
    assert disconnect(h.disconnect_event("conn-never"), None) == {"statusCode": 200}


def test_disconnect_never_raises_on_aws_errors(online, clock, out, monkeypatch):
    from botocore.exceptions import ClientError

    from lambdas.common import connections

    def boom(*_a, **_k):
        raise ClientError({"Error": {"Code": "InternalServerError", "Message": "x"}}, "DeleteItem")

    monkeypatch.setattr(connections, "drop", boom)
    assert disconnect(h.disconnect_event("conn-1"), None) == {"statusCode": 200}
    assert "ws_disconnect_failed" in out.messages()
