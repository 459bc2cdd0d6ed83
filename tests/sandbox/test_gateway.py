"""The local WebSocket gateway and @connections API, with stand-in functions."""

from __future__ import annotations

import json
import threading
from typing import Any

import boto3
import pytest
from botocore.config import Config
from websockets.exceptions import ConnectionClosedError, ConnectionClosedOK, InvalidStatus
from websockets.sync.client import connect

from sandbox.connections_api import ConnectionsApi
from sandbox.gateway import Gateway, Routes


class StubRuntime:
    """Records events; $connect accepts only token=good."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.lock = threading.Lock()
        self.disconnected = threading.Event()

    def invoke(self, name: str, event: dict[str, Any]) -> Any:
        with self.lock:
            self.events.append((name, event))
        if name == "connect":
            token = (event["queryStringParameters"] or {}).get("token")
            return {"statusCode": 200} if token == "good" else {"statusCode": 401, "body": "Unauthorized"}
        if name == "disconnect":
            self.disconnected.set()
        route = event["requestContext"]["routeKey"]
        return {"statusCode": 200, "body": json.dumps({"type": "ack", "route": route})}


@pytest.fixture()
def gateway():
    runtime = StubRuntime()
    routes = Routes({"$connect": "connect", "$default": "message", "$disconnect": "disconnect"}, {"$default"})
    gw = Gateway(runtime, routes).start()  # type: ignore[arg-type]
    api = ConnectionsApi(gw).start()
    client = boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=api.endpoint,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=Config(retries={"max_attempts": 1}),
    )
    yield gw, api, runtime, client
    api.stop()
    gw.stop()


def connection_id(runtime: StubRuntime) -> str:
    return next(e["requestContext"]["connectionId"] for n, e in runtime.events if n == "connect")


def test_bad_token_rejected_with_401(gateway):
    gw, _, runtime, _ = gateway
    with pytest.raises(InvalidStatus) as excinfo:
        connect(f"{gw.url}?token=bad", open_timeout=5)
    assert excinfo.value.response.status_code == 401
    assert gw.connections == {}
    assert [n for n, _ in runtime.events] == ["connect"]


def test_connect_event_is_shaped_like_api_gateway(gateway):
    gw, _, runtime, _ = gateway
    with connect(f"{gw.url}?token=good", open_timeout=5):
        pass
    event = runtime.events[0][1]
    ctx = event["requestContext"]
    assert event["queryStringParameters"] == {"token": "good"}
    assert ctx["routeKey"] == "$connect" and ctx["eventType"] == "CONNECT" and ctx["stage"] == "prod"
    assert ctx["domainName"] == gw.domain and ctx["apiId"] == "localws"
    assert isinstance(ctx["requestTimeEpoch"], int) and ctx["connectionId"]


def test_messages_route_to_default_and_two_way_answer_is_sent(gateway):
    gw, _, runtime, _ = gateway
    with connect(f"{gw.url}?token=good", open_timeout=5) as ws:
        ws.send(json.dumps({"action": "heartbeat", "version": "1.0"}))
        assert json.loads(ws.recv(5)) == {"type": "ack", "route": "$default"}
    name, event = runtime.events[1]
    assert name == "message"
    assert event["requestContext"]["eventType"] == "MESSAGE"
    assert json.loads(event["body"]) == {"action": "heartbeat", "version": "1.0"}
    assert runtime.disconnected.wait(5)
    disconnect = runtime.events[-1][1]["requestContext"]
    assert disconnect["eventType"] == "DISCONNECT" and disconnect["disconnectStatusCode"] == 1000


def test_post_to_connection_then_410_gone_once_closed(gateway):
    gw, api, runtime, client = gateway
    with connect(f"{gw.url}?token=good", open_timeout=5) as ws:
        cid = connection_id(runtime)
        client.post_to_connection(ConnectionId=cid, Data=b'{"type":"job.assign","jobId":"j1"}')
        assert json.loads(ws.recv(5)) == {"type": "job.assign", "jobId": "j1"}
        info = client.get_connection(ConnectionId=cid)
        assert info["Identity"]["SourceIp"] == "127.0.0.1"
    assert runtime.disconnected.wait(5)
    with pytest.raises(client.exceptions.GoneException):
        client.post_to_connection(ConnectionId=cid, Data=b"{}")
    with pytest.raises(client.exceptions.GoneException):
        client.post_to_connection(ConnectionId="never-existed=", Data=b"{}")
    assert api.calls == {200: 2, 410: 2}


def test_frame_over_32_kb_closes_with_1009(gateway):
    gw, _, _, _ = gateway
    with connect(f"{gw.url}?token=good", open_timeout=5) as ws:
        ws.send("x" * (32 * 1024 + 1))
        with pytest.raises(ConnectionClosedError) as excinfo:
            ws.recv(5)
    assert excinfo.value.rcvd.code == 1009


def test_delete_connection_closes_it(gateway):
    gw, _, runtime, client = gateway
    with connect(f"{gw.url}?token=good", open_timeout=5) as ws:
        cid = connection_id(runtime)
        client.delete_connection(ConnectionId=cid)
        with pytest.raises(ConnectionClosedOK):
            ws.recv(5)
    assert runtime.disconnected.wait(5)
    assert cid not in gw.connections
