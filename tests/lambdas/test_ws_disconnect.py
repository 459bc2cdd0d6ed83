"""ws-disconnect: forget the connection without clobbering a newer one."""

from __future__ import annotations

import pytest

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


def _closed(connection_id: str, code: int) -> dict:
    event = h.disconnect_event(connection_id)
    event["requestContext"]["disconnectStatusCode"] = code
    return event


def test_a_close_with_1000_is_the_agents_goodbye(online, clock, out):
    # WHEN the agent closes its connection normally (its owner stops it)
    assert disconnect(_closed("conn-1", 1000), None) == {"statusCode": 200}
    # THEN the agent item remembers the goodbye: its held jobs are its owner's choice
    agent = h.agent("agent-1")
    assert "connectionId" not in agent and agent["goodbyeAt"] == clock.value
    assert out.messages()[-1] == "agent_disconnected code=1000 goodbye=true"


@pytest.mark.parametrize("code", [1001, 1006, None])
def test_any_other_close_is_a_loss_and_forgets_an_earlier_goodbye(code, online, clock, out):
    # GIVEN an agent that once said goodbye (reconnecting forgets it; here it is set by hand)
    h.ddb().update_item(
        TableName=h.ENV["AGENTS_TABLE"],
        Key={"pk": {"S": "agent#creator-1#agent-1"}},
        UpdateExpression="SET goodbyeAt = :t",
        ExpressionAttributeValues={":t": {"N": "1"}},
    )
    event = _closed("conn-1", code) if code else h.disconnect_event("conn-1")
    if code is None:
        del event["requestContext"]["disconnectStatusCode"]
    # WHEN its connection ends with an idle timeout, no close frame, or no code at all
    disconnect(event, None)
    # THEN it is lost, not gone by choice
    assert "goodbyeAt" not in h.agent("agent-1")


def test_reconnecting_forgets_the_goodbye(online, clock, out):
    disconnect(_closed("conn-1", 1000), None)
    assert connect(h.connect_event(h.token("agent-1"), "conn-2"), None) == {"statusCode": 200}
    assert "goodbyeAt" not in h.agent("agent-1")


def test_a_late_goodbye_of_an_old_connection_leaves_the_new_one_alone(online, clock, out):
    connect(h.connect_event(h.token("agent-1"), "conn-2"), None)
    disconnect(_closed("conn-1", 1000), None)
    agent = h.agent("agent-1")
    assert agent["connectionId"] == "conn-2" and "goodbyeAt" not in agent


def test_a_revoked_connection_closed_by_an_operator_counts_as_a_goodbye(online, clock, out):
    # GIVEN RevokeTokens marked the connection revoked (then DeleteConnection closes it: code 1000)
    h.ddb().update_item(
        TableName=h.ENV["AGENTS_TABLE"],
        Key={"pk": {"S": "conn#conn-1"}},
        UpdateExpression="SET revoked = :t",
        ExpressionAttributeValues={":t": {"BOOL": True}},
    )
    disconnect(_closed("conn-1", 1005), None)
    assert h.agent("agent-1")["goodbyeAt"] == clock.value
