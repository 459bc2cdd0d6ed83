"""The `@connections` management API over HTTP, for boto3's `apigatewaymanagementapi`.

Endpoint: `http://127.0.0.1:<port>/prod` (the handlers' WS_ENDPOINT). POST sends data to
a connection, GET describes it, DELETE closes it; an unknown or closed connection gets
a real 410 GoneException, which botocore raises as `GoneException`.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

from sandbox.gateway import Gateway

_ERRORS = {
    HTTPStatus.GONE: "GoneException",
    HTTPStatus.REQUEST_ENTITY_TOO_LARGE: "PayloadTooLargeException",
    HTTPStatus.FORBIDDEN: "ForbiddenException",
}


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class ConnectionsApi:
    """Serves the management API of one Gateway on its own port."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self.calls: dict[int, int] = {}  # HTTP status -> count, for reports and tests
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="ws-connections", daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/prod"

    def start(self) -> ConnectionsApi:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(10)

    def _count(self, status: int) -> None:
        with self._lock:
            self.calls[status] = self.calls.get(status, 0) + 1

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                return  # keep the sandbox's console for the timeline

            def _connection_id(self) -> str | None:
                stage, _, rest = self.path.lstrip("/").partition("/")
                if stage != "prod" or not rest.startswith("@connections/"):
                    return None
                return unquote(rest.removeprefix("@connections/")) or None

            def _send(self, status: int, body: dict[str, object] | None = None) -> None:
                api._count(status)
                data = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                if status in _ERRORS:
                    self.send_header("x-amzn-ErrorType", _ERRORS[HTTPStatus(status)])
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _error(self, status: HTTPStatus) -> None:
                self._send(status, {"message": None if status == HTTPStatus.GONE else status.phrase})

            def do_POST(self) -> None:  # noqa: N802
                data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                connection_id = self._connection_id()
                if connection_id is None:
                    return self._error(HTTPStatus.FORBIDDEN)
                status = api.gateway.post(connection_id, data)
                return self._send(status) if status == HTTPStatus.OK else self._error(status)

            def do_GET(self) -> None:  # noqa: N802
                connection_id = self._connection_id()
                if connection_id is None:
                    return self._error(HTTPStatus.FORBIDDEN)
                info = api.gateway.info(connection_id)
                if info is None:
                    return self._error(HTTPStatus.GONE)
                # The wire names are lowerCamel; botocore maps them to ConnectedAt, Identity, ...
                identity = info["identity"]
                return self._send(
                    HTTPStatus.OK,
                    {
                        "connectedAt": _iso(info["connectedAt"]),
                        "lastActiveAt": _iso(info["lastActiveAt"]),
                        "identity": identity,
                    },
                )

            def do_DELETE(self) -> None:  # noqa: N802
                connection_id = self._connection_id()
                if connection_id is None:
                    return self._error(HTTPStatus.FORBIDDEN)
                status = api.gateway.delete(connection_id)
                return self._send(status) if status == HTTPStatus.NO_CONTENT else self._error(status)

        return Handler
