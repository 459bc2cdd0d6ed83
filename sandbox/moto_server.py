"""moto in server mode on 127.0.0.1 and a free port, and boto3 clients pointed at it."""

from __future__ import annotations

import logging
import os
import threading
import urllib.request
from collections.abc import Callable
from typing import Any

import boto3
from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server

from sandbox import moto_kms_digest, moto_patches
from sandbox.s3_post_policy import PostPolicyCheck
from sandbox.template import REGION

CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "sandbox",
    "AWS_SECRET_ACCESS_KEY": "sandbox",
    "AWS_SESSION_TOKEN": "sandbox",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}


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


class _Server(ThreadedMotoServer):
    def _server_entry(self) -> None:
        app = _SerializedDynamoDB(PostPolicyCheck(DomainDispatcherApplication(create_backend_app)))
        self._server = make_server(
            self._ip_address, self._port, app, True, request_handler=MotoRequestHandler
        )
        self._server_ready_event.set()
        self._server.serve_forever()


class MotoServer:
    """A moto server bound to 127.0.0.1 on a port the OS picks."""

    def __init__(self) -> None:
        self._server = _Server(ip_address="127.0.0.1", port=0, verbose=False)
        self.endpoint = ""

    def start(self) -> MotoServer:
        moto_patches.apply()
        moto_kms_digest.apply()
        # werkzeug logs every request to stderr; the sandbox's console is for its timeline.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        # moto's backends live in the process: start from an empty account every time.
        urllib.request.urlopen(urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST"))
        return self

    def stop(self) -> None:
        self._server.stop()

    def environ(self) -> dict[str, str]:
        """Env vars that point every boto3 client in this process at the server."""
        return {**CREDENTIALS, "AWS_ENDPOINT_URL": self.endpoint}

    def export(self) -> None:
        """Point boto3 in this process (the handlers, the automation scripts) at moto."""
        os.environ.update(self.environ())

    def client_factory(self) -> Callable[[str], Any]:
        """A function making boto3 clients bound to this server."""
        session = boto3.session.Session(
            aws_access_key_id="sandbox", aws_secret_access_key="sandbox", region_name=REGION
        )

        def make(service: str) -> Any:
            return session.client(service, endpoint_url=self.endpoint)

        return make
