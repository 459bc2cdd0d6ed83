"""The edge of the local WebSocket API: the stage throttle (429 without running a function) and
the API's CloudWatch metrics, on a clock the test moves."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from sandbox.edge import DEFAULT, Edge, Limit, read_edge
from sandbox.gateway import Gateway, Routes
from sandbox.lambda_runtime import InvocationError
from sandbox.metrics import MetricStore
from sandbox.template import Resolver

DIMS = {"ApiId": "byoip-test-ws", "Stage": "prod"}


class Clock:
    """Production time that moves only when the test says so."""

    def __init__(self) -> None:
        self.t = 1_000_000.0

    def now(self) -> float:
        return self.t


class Runtime:
    """$connect accepts token=good (401 otherwise); frames fail when their body says so."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.lock = threading.Lock()

    def invoke(self, name: str, event: dict[str, Any]) -> Any:
        with self.lock:
            self.calls.append(name)
        if name == "connect":
            token = (event["queryStringParameters"] or {}).get("token")
            return {"statusCode": 200} if token == "good" else {"statusCode": 401, "body": "Unauthorized"}
        if name == "message" and "boom" in event["body"]:
            raise InvocationError("message: RuntimeError: boom")
        return {"statusCode": 200, "body": json.dumps({"type": "ack"})}


def total(metrics: MetricStore, name: str) -> float:
    return metrics.total("AWS/ApiGateway", name, DIMS)


@pytest.fixture()
def edge_gateway():
    clock = Clock()
    metrics = MetricStore(clock)  # type: ignore[arg-type]
    limits = {DEFAULT: Limit(100, 200), "$connect": Limit(1, 2), "$default": Limit(2, 3)}
    edge = Edge(clock, metrics, "byoip-test-ws", limits)  # type: ignore[arg-type]
    runtime = Runtime()
    routes = Routes({"$connect": "connect", "$default": "message", "$disconnect": "disconnect"}, {"$default"})
    gw = Gateway(runtime, routes, edge=edge).start()  # type: ignore[arg-type]
    yield gw, clock, metrics, runtime
    gw.stop()


def test_the_bucket_holds_burst_tokens_and_refills_at_the_rate_on_the_sandbox_clock():
    clock = Clock()
    edge = Edge(clock, None, "api", {"$connect": Limit(rate=2, burst=3)})  # type: ignore[arg-type]
    assert [edge.admit("$connect") for _ in range(4)] == [True, True, True, False]
    clock.t += 0.5  # one token back at 2 a second
    assert [edge.admit("$connect") for _ in range(2)] == [True, False]
    clock.t += 10  # never more than the burst
    assert [edge.admit("$connect") for _ in range(4)] == [True, True, True, False]


def test_a_route_without_its_own_settings_takes_the_stage_default():
    edge = Edge(Clock(), None, "api", {DEFAULT: Limit(1, 1), "$connect": Limit(5, 5)})  # type: ignore[arg-type]
    assert [edge.admit("$disconnect") for _ in range(2)] == [True, False]
    assert edge.admit("$connect")


def test_connects_over_the_throttle_get_429_and_no_function_runs(edge_gateway):
    gw, clock, metrics, runtime = edge_gateway
    for _ in range(2):  # the burst
        with connect(f"{gw.url}?token=good"):
            pass
    with pytest.raises(InvalidStatus) as refused:
        connect(f"{gw.url}?token=good")
    assert refused.value.response.status_code == 429
    assert runtime.calls.count("connect") == 2
    assert (total(metrics, "ConnectCount"), total(metrics, "ClientError")) == (2, 1)
    clock.t += 1  # a token back
    with connect(f"{gw.url}?token=good"):
        pass
    assert total(metrics, "ConnectCount") == 3


def test_a_refused_token_is_an_integration_error_not_a_client_error(edge_gateway):
    gw, _, metrics, _ = edge_gateway
    with pytest.raises(InvalidStatus) as refused:
        connect(f"{gw.url}?token=bad")
    assert refused.value.response.status_code == 401
    counts = [total(metrics, name) for name in ("ConnectCount", "IntegrationError", "ClientError")]
    assert counts == [1, 1, 0]


def test_frames_count_messages_both_ways_integration_errors_and_429s(edge_gateway):
    gw, _, metrics, runtime = edge_gateway
    with connect(f"{gw.url}?token=good") as ws:
        ws.send(json.dumps({"action": "ping"}))
        assert json.loads(ws.recv())["type"] == "ack"
        ws.send(json.dumps({"action": "boom"}))
        assert json.loads(ws.recv())["message"] == "Internal server error"
        ws.send(json.dumps({"action": "ping"}))  # the third and last token of the burst
        assert json.loads(ws.recv())["type"] == "ack"
        ws.send(json.dumps({"action": "ping"}))  # the bucket is empty: refused at the edge
        assert json.loads(ws.recv())["message"] == "Too Many Requests"
    assert runtime.calls.count("message") == 3
    # frames that reached the integration (the acks are the route's answers, not PostToConnection)
    assert total(metrics, "MessageCount") == 3
    assert (total(metrics, "IntegrationError"), total(metrics, "ClientError")) == (1, 1)


def test_a_function_that_is_gone_is_an_execution_error(edge_gateway):
    gw, _, metrics, _ = edge_gateway
    gw.routes.functions["$default"] = "deleted"
    invoke = gw.runtime.invoke

    def without_deleted(name: str, event: dict[str, Any]) -> Any:
        return {}[name] if name == "deleted" else invoke(name, event)  # LambdaRuntime: KeyError for it

    gw.runtime.invoke = without_deleted
    with connect(f"{gw.url}?token=good") as ws:
        ws.send(json.dumps({"action": "ping"}))
        assert json.loads(ws.recv())["message"] == "Internal server error"
    assert (total(metrics, "ExecutionError"), total(metrics, "IntegrationError")) == (1, 0)


def test_read_edge_takes_the_stage_throttles_and_the_api_id_the_alarms_name(local_template):
    api_id, limits = read_edge(Resolver(local_template))
    assert api_id == "byoip-local-ws"
    assert limits == {DEFAULT: Limit(100, 200), "$connect": Limit(50, 100), "$default": Limit(200, 400)}
