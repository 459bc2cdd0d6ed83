"""The edge of the local WebSocket API: the stage's throttle and API Gateway's own metrics.

API Gateway throttles each route with a token bucket (rate per second, burst), taking the
stage's `DefaultRouteSettings` where the route has no `RouteSettings` of its own; a request over
the limit is answered 429 at the edge and no function runs. Buckets refill on the sandbox clock,
so the limits are production limits (at 60x, 50 $connects a production second are 3,000 a real
one: a scenario that wants to exhaust a limit lowers it with `set_throttle`).

Metrics (`AWS/ApiGateway`, dimensions ApiId and Stage, as the WebSocket API publishes them):
ConnectCount per `$connect` sent to its integration, MessageCount per message to or from a client,
IntegrationError per request whose integration failed or answered 4xx/5xx, ExecutionError per
request API Gateway could not send to its integration, ClientError per 4xx answered at the edge.
Source: "Monitoring WebSocket API execution with CloudWatch metrics", API Gateway developer guide.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from sandbox.clock import SimClock
from sandbox.metrics import MetricStore
from sandbox.template import Resolver

NAMESPACE = "AWS/ApiGateway"
STAGE_NAME = "prod"
CONNECT_COUNT = "ConnectCount"
MESSAGE_COUNT = "MessageCount"
INTEGRATION_ERROR = "IntegrationError"
EXECUTION_ERROR = "ExecutionError"
CLIENT_ERROR = "ClientError"
DEFAULT = "*"  # the stage's DefaultRouteSettings


@dataclass(frozen=True)
class Limit:
    rate: float  # requests a (production) second
    burst: int


def read_edge(resolver: Resolver) -> tuple[str, dict[str, Limit]]:
    """(ApiId as the template's alarms name it, route key -> limit with DEFAULT for the stage)."""
    api_ids = [str(resolver.resolve({"Ref": lid})) for lid, _ in resolver.of_type("AWS::ApiGatewayV2::Api")]
    limits: dict[str, Limit] = {}
    for _, props in resolver.of_type("AWS::ApiGatewayV2::Stage"):
        settings = {DEFAULT: props.get("DefaultRouteSettings") or {}, **(props.get("RouteSettings") or {})}
        for route, values in settings.items():
            if "ThrottlingRateLimit" in values and "ThrottlingBurstLimit" in values:
                limits[route] = Limit(
                    float(values["ThrottlingRateLimit"]), int(values["ThrottlingBurstLimit"])
                )
    return (api_ids[0] if api_ids else ""), limits


class Edge:
    """Token buckets per route and the API's metrics; thread-safe."""

    def __init__(
        self, clock: SimClock, metrics: MetricStore | None, api_id: str, limits: dict[str, Limit]
    ) -> None:
        self.clock = clock
        self.metrics = metrics
        self.dimensions = {"ApiId": api_id, "Stage": STAGE_NAME}
        self.limits = dict(limits)
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}  # route -> (tokens, production time)

    def set_throttle(self, route: str, rate: float, burst: int) -> None:
        """Change one route's limit (DEFAULT for the stage's), as a redeploy of the stage would."""
        with self._lock:
            self.limits[route] = Limit(rate, burst)
            self._buckets.pop(route, None)

    def admit(self, route: str) -> bool:
        """Take a token from the route's bucket; False (a 429) when it is empty."""
        key = route if route in self.limits else DEFAULT
        limit = self.limits.get(key)
        if limit is None:
            return True
        now = self.clock.now()
        with self._lock:
            tokens, since = self._buckets.get(key, (float(limit.burst), now))
            tokens = min(float(limit.burst), tokens + (now - since) * limit.rate)
            admitted = tokens >= 1
            self._buckets[key] = (tokens - 1 if admitted else tokens, now)
        if not admitted:
            self.count(CLIENT_ERROR)
        return admitted

    def count(self, name: str, value: float = 1) -> None:
        """One datapoint of an API metric, stamped now (production time)."""
        if self.metrics is not None:
            self.metrics.put(NAMESPACE, name, value, self.dimensions)

    def integration_outcome(self, result: Any) -> None:
        """IntegrationError when the integration answered 4xx/5xx ($connect's statusCode)."""
        status = result.get("statusCode", 200) if isinstance(result, dict) else 200
        try:
            failed = int(status) >= 400
        except (TypeError, ValueError):
            failed = True  # API Gateway cannot map the answer: an integration failure
        if failed:
            self.count(INTEGRATION_ERROR)
