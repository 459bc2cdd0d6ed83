"""A local API Gateway WebSocket API in front of the unmodified handlers.

Speaks API Gateway's contract: `$connect` runs before the handshake completes and a
non-2xx answer rejects it with that HTTP status (401/403); messages are routed on the
JSON body's `action` with `$default` as fallback; frames over 32 KB and messages over
128 KB close the connection with 1009 as API Gateway does; `$disconnect` is best effort.
The `@connections` management API is served by connections_api.py. With an `Edge`
(sandbox/edge.py) it throttles each route as the stage does (429 without running the function)
and publishes the API's CloudWatch metrics.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from sandbox import ws_events
from sandbox.edge import (
    CLIENT_ERROR,
    CONNECT_COUNT,
    EXECUTION_ERROR,
    INTEGRATION_ERROR,
    MESSAGE_COUNT,
    Edge,
)
from sandbox.lambda_runtime import InvocationError, LambdaRuntime, Throttled
from sandbox.template import Resolver

MAX_FRAME_BYTES = 32 * 1024
MAX_MESSAGE_BYTES = 128 * 1024
API_ID = "localws"


# Pending TCP connections the gateway's socket queues (the kernel caps it at net.core.somaxconn).
LISTEN_BACKLOG = 4096


@dataclass
class Routes:
    """Route key -> function name, and the routes whose Lambda answer is sent back (two-way)."""

    functions: dict[str, str]
    two_way: set[str] = field(default_factory=set)

    def select(self, body: str | bytes) -> str | None:
        """API Gateway's `$request.body.action` selection with `$default` fallback."""
        try:
            action = json.loads(body).get("action") if isinstance(body, str) else None
        except (ValueError, RecursionError, AttributeError):  # API Gateway falls back to $default too
            action = None
        if isinstance(action, str) and action in self.functions:
            return action
        return "$default" if "$default" in self.functions else None


def read_routes(resolver: Resolver, function_arns: dict[str, str]) -> Routes:
    """Routes from AWS::ApiGatewayV2::Route/Integration/RouteResponse; arns maps ARN -> name."""
    integrations = {}
    for logical_id, props in resolver.of_type("AWS::ApiGatewayV2::Integration"):
        uri = str(resolver.resolve(props.get("IntegrationUri", "")))
        for arn, name in function_arns.items():
            if arn in uri:
                integrations[logical_id] = name
    routes, route_keys = {}, {}
    for logical_id, props in resolver.of_type("AWS::ApiGatewayV2::Route"):
        target = str(resolver.resolve(props.get("Target", "")))
        integration = target.rsplit("/", 1)[-1].removeprefix("local-")
        if integration in integrations:
            routes[props["RouteKey"]] = integrations[integration]
            route_keys[logical_id] = props["RouteKey"]
    two_way = set()
    for _, props in resolver.of_type("AWS::ApiGatewayV2::RouteResponse"):
        route = props.get("RouteId", {})
        ref = route.get("Ref") if isinstance(route, dict) else None
        if ref in route_keys:
            two_way.add(route_keys[ref])
    return Routes(routes, two_way)


@dataclass
class Connection:
    ws: ServerConnection
    connected_at_ms: int
    source_ip: str
    user_agent: str
    last_active: float = field(default_factory=time.time)
    # Set once the handshake response is sent; posts made between $connect's 200 and then wait.
    ready: asyncio.Event = field(default_factory=asyncio.Event)


class Gateway:
    """The WebSocket side of the local API; runs its own event loop in a thread."""

    def __init__(
        self,
        runtime: LambdaRuntime,
        routes: Routes,
        idle_timeout_s: float = 600.0,
        edge: Edge | None = None,
        handshake_timeout_s: float = 10.0,
    ) -> None:
        self.runtime = runtime
        self.handshake_timeout_s = handshake_timeout_s  # a handshake not answered by then is dropped
        self.routes = routes
        self.edge = edge
        self.idle_timeout_s = idle_timeout_s
        self.connections: dict[str, Connection] = {}
        # Scenarios turn this off to model $disconnect being lost (it is best effort on AWS).
        self.deliver_disconnects = True
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="ws-invoke")
        self._server: Server | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, name="ws-gateway", daemon=True)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/prod"

    @property
    def domain(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> Gateway:
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(self._serve(), self._loop).result(10)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            asyncio.run_coroutine_threadsafe(self._server.wait_closed(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._pool.shutdown(wait=True, cancel_futures=True)

    async def _serve(self) -> Server:
        return await serve(
            self._session,
            "127.0.0.1",
            0,
            process_request=self._connect,
            max_size=(MAX_MESSAGE_BYTES, MAX_FRAME_BYTES),
            ping_interval=None,
            open_timeout=self.handshake_timeout_s,
            # a fleet's reconnect storm: the default listen queue (100) overflowed at ~5,000 agents
            backlog=LISTEN_BACKLOG,
        )

    async def _invoke(self, route: str, event: dict[str, Any]) -> Any:
        """Call the route's integration; its failures count as the API's metrics say."""
        try:
            result = await self._loop.run_in_executor(
                self._pool, self.runtime.invoke, self.routes.functions[route], event
            )
        except (InvocationError, Throttled):
            self._count(INTEGRATION_ERROR)
            raise
        except KeyError as exc:  # the function is gone: API Gateway cannot call the integration
            self._count(EXECUTION_ERROR)
            raise InvocationError(f"{route}: no integration function {exc}") from None
        if self.edge is not None:
            self.edge.integration_outcome(result)
        return result

    def _count(self, name: str) -> None:
        if self.edge is not None:
            self.edge.count(name)

    def _admit(self, route: str) -> bool:
        return self.edge is None or self.edge.admit(route)

    async def _connect(self, connection: ServerConnection, request: Request) -> Response | None:
        """Run $connect before accepting the handshake; any non-2xx rejects it with that status."""
        if not request.path.split("?")[0].rstrip("/").endswith("/prod"):
            self._count(CLIENT_ERROR)  # no such stage: a 4xx at the edge
            return connection.respond(HTTPStatus.FORBIDDEN, "Forbidden\n")
        connection_id = ws_events.new_connection_id()
        connection.byoip_id = connection_id  # type: ignore[attr-defined]
        headers = {k: v for k, v in request.headers.raw_items()}
        source_ip = str(connection.remote_address[0])
        if "$connect" not in self.routes.functions:
            return None
        if not self._admit("$connect"):
            return connection.respond(HTTPStatus.TOO_MANY_REQUESTS, "Too Many Requests\n")
        self._count(CONNECT_COUNT)
        event = ws_events.connect_event(
            connection_id=connection_id,
            path_query=request.path,
            headers=headers,
            domain=self.domain,
            api_id=API_ID,
            source_ip=source_ip,
        )
        try:
            result = await self._invoke("$connect", event)
        except (InvocationError, Throttled):
            return connection.respond(HTTPStatus.INTERNAL_SERVER_ERROR, "Internal server error\n")
        status = int(result.get("statusCode", 200)) if isinstance(result, dict) else 200
        if not 200 <= status < 300:
            body = result.get("body") or HTTPStatus(status).phrase
            return connection.respond(status, f"{body}\n")
        # On API Gateway the connection exists as soon as $connect answers 200: ws-connect may
        # already have released jobs that the dispatcher pushes before the handshake ends.
        self.connections[connection_id] = Connection(
            ws=connection,
            connected_at_ms=int(time.time() * 1000),
            source_ip=source_ip,
            user_agent=headers.get("User-Agent", ""),
        )
        return None

    async def _session(self, ws: ServerConnection) -> None:
        connection_id: str = ws.byoip_id  # type: ignore[attr-defined]
        conn = self.connections.get(connection_id) or Connection(
            ws=ws,
            connected_at_ms=int(time.time() * 1000),
            source_ip=str(ws.remote_address[0]),
            user_agent=ws.request.headers.get("User-Agent", "") if ws.request else "",
        )
        self.connections[connection_id] = conn
        conn.ready.set()
        tasks: set[asyncio.Task[None]] = set()
        try:
            while True:
                try:
                    message = await asyncio.wait_for(ws.recv(), self.idle_timeout_s)
                except TimeoutError:
                    await ws.close(1001, "Going away")  # API Gateway's idle timeout
                    break
                conn.last_active = time.time()
                task = asyncio.create_task(self._message(connection_id, conn, message))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
        except ConnectionClosed:
            pass
        finally:
            self.connections.pop(connection_id, None)
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)
            if (
                self.deliver_disconnects
                and "$disconnect" in self.routes.functions
                and self._admit("$disconnect")
            ):
                event = ws_events.disconnect_event(
                    connection_id=connection_id,
                    connected_at_ms=conn.connected_at_ms,
                    status_code=ws.close_code or 1006,
                    reason=ws.close_reason or "",
                    domain=self.domain,
                    api_id=API_ID,
                    source_ip=conn.source_ip,
                    user_agent=conn.user_agent,
                )
                try:
                    await self._invoke("$disconnect", event)
                except (InvocationError, Throttled, RuntimeError):
                    pass  # best effort on AWS too (RuntimeError: the gateway is shutting down)

    async def _message(self, connection_id: str, conn: Connection, message: str | bytes) -> None:
        route = self.routes.select(message)
        if route is None:
            self._count(CLIENT_ERROR)  # no route matches: API Gateway's 403 frame
            await self._reply(conn, json.dumps({"message": "Forbidden", "connectionId": connection_id}))
            return
        if not self._admit(route):
            await self._reply(
                conn, json.dumps({"message": "Too Many Requests", "connectionId": connection_id})
            )
            return
        self._count(MESSAGE_COUNT)
        event = ws_events.message_event(
            route_key=route,
            connection_id=connection_id,
            connected_at_ms=conn.connected_at_ms,
            body=message,
            domain=self.domain,
            api_id=API_ID,
            source_ip=conn.source_ip,
            user_agent=conn.user_agent,
        )
        try:
            result = await self._invoke(route, event)
        except (InvocationError, Throttled):
            await self._reply(
                conn, json.dumps({"message": "Internal server error", "connectionId": connection_id})
            )
            return
        if route in self.routes.two_way and isinstance(result, dict) and result.get("body"):
            await self._reply(conn, result["body"])

    async def _reply(self, conn: Connection, text: str) -> None:
        try:
            await conn.ws.send(text)
        except ConnectionClosed:
            pass

    # Management API side (called from the @connections HTTP server's threads).

    def post(self, connection_id: str, data: bytes) -> HTTPStatus:
        """PostToConnection: 200, 410 Gone for an unknown/closed connection, 413 too large."""
        conn = self.connections.get(connection_id)
        if conn is None:
            return HTTPStatus.GONE
        if len(data) > MAX_MESSAGE_BYTES:
            return HTTPStatus.REQUEST_ENTITY_TOO_LARGE
        try:
            payload: str | bytes = data.decode()
        except UnicodeDecodeError:
            payload = data
        future = asyncio.run_coroutine_threadsafe(self._post(connection_id, conn, payload), self._loop)
        return future.result(15)

    async def _post(self, connection_id: str, conn: Connection, payload: str | bytes) -> HTTPStatus:
        try:
            await asyncio.wait_for(conn.ready.wait(), 5)
            await conn.ws.send(payload)
        except TimeoutError:
            self.connections.pop(connection_id, None)  # the handshake never completed
            return HTTPStatus.GONE
        except ConnectionClosed:
            return HTTPStatus.GONE
        self._count(MESSAGE_COUNT)  # a message to the client counts too
        return HTTPStatus.OK

    def info(self, connection_id: str) -> dict[str, Any] | None:
        """GetConnection's answer, or None when the connection is gone."""
        conn = self.connections.get(connection_id)
        if conn is None:
            return None
        return {
            "connectedAt": conn.connected_at_ms / 1000,
            "lastActiveAt": conn.last_active,
            "identity": {"sourceIp": conn.source_ip, "userAgent": conn.user_agent},
        }

    def delete(self, connection_id: str) -> HTTPStatus:
        """DeleteConnection: close it (then $disconnect runs) or 410 if already gone."""
        conn = self.connections.get(connection_id)
        if conn is None:
            return HTTPStatus.GONE
        asyncio.run_coroutine_threadsafe(conn.ws.close(1000, "Connection deleted"), self._loop).result(10)
        return HTTPStatus.NO_CONTENT

    def drop(self, connection_id: str) -> None:
        """Kill a connection's transport without a close handshake (a device losing its network)."""
        conn = self.connections.get(connection_id)
        if conn is not None:
            self._loop.call_soon_threadsafe(conn.ws.transport.abort)
