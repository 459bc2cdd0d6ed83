"""The sandbox's moto server as a child process: its own interpreter, so its own core.

    python -m sandbox.moto_process   # prints `port <n>` once listening on 127.0.0.1:<n>

moto, the handlers, the gateway and the agents used to share one interpreter, so one GIL:
on two cores, moto's request threads and the handlers took turns on one. In a child process
moto runs on the other core. The child applies the sandbox's moto patches, serializes
DynamoDB requests, checks S3 POST policies, and serves one extra read-only route for the
sandbox's own bookkeeping (queue metrics, game-day ledger), which used to read moto's
backends in-process:

    GET /_sandbox/queues/<name>  ->  [{"body", "sent", "visible", "delayed"}, ...]

It exits when its parent does (it watches its parent's pid), so no orphan keeps a port.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
from typing import Any

QUEUES_PREFIX = "/_sandbox/queues/"


class _SerializedDynamoDB:
    """WSGI middleware: one DynamoDB request at a time.

    moto's DynamoDB backend is not thread-safe (TransactWriteItems deep-copies tables that
    other request threads are writing: "dictionary changed size during iteration"), and
    the sandbox's functions run concurrently. SQS stays concurrent: its long polls would
    otherwise block everything for their wait time.
    """

    def __init__(self, app: Any) -> None:
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
            with self.lock:
                return list(self.app(environ, start_response))
        return self.app(environ, start_response)


def queue_messages(name: str) -> list[dict[str, Any]]:
    """Every message of a queue, visible or not, read from moto's backend without receiving it."""
    from moto.sqs.models import sqs_backends

    from sandbox.template import ACCOUNT, REGION

    queue = sqs_backends[ACCOUNT][REGION].queues[name]
    with queue._messages_lock:  # a SendMessageBatch is seen whole or not at all (moto_patches 5)
        messages = list(queue._messages)
    return [
        {"body": m.body, "sent": m.sent_timestamp, "visible": m.visible, "delayed": m.delayed}
        for m in messages
    ]


class _QueueContents:
    """WSGI middleware answering GET /_sandbox/queues/<name>; everything else goes to moto."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        if not path.startswith(QUEUES_PREFIX):
            return self.app(environ, start_response)
        try:
            body, status = json.dumps(queue_messages(path[len(QUEUES_PREFIX) :])).encode(), "200 OK"
        except KeyError:
            body, status = b'{"error": "no such queue"}', "404 Not Found"
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]


def make_app() -> Any:
    """moto's WSGI app with the sandbox's patches and middleware."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    from sandbox import moto_kms_digest, moto_patches
    from sandbox.s3_post_policy import PostPolicyCheck

    moto_patches.apply()
    moto_kms_digest.apply()
    moto = DomainDispatcherApplication(create_backend_app)
    return _QueueContents(_SerializedDynamoDB(PostPolicyCheck(moto)))


def _exit_with_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)


def main() -> None:
    from moto.moto_server.werkzeug_app import MotoRequestHandler
    from werkzeug.serving import make_server

    class QuietHandler(MotoRequestHandler):
        """No access log: werkzeug formats the line (date, URI) before the logger drops it,
        5 % of the DynamoDB process's CPU in the benchmark. Errors are still logged."""

        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            return None

    # werkzeug logs every request to stderr; the sandbox's console is for its timeline.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", 0, make_app(), True, request_handler=QuietHandler)
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    sys.stdout.write(f"port {server.socket.getsockname()[1]}\n")
    sys.stdout.flush()
    # Nobody reads the pipe after the port line: anything printed later would fill it and block.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    server.serve_forever()


if __name__ == "__main__":
    main()
