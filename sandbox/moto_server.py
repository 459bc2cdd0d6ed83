"""moto in server mode on 127.0.0.1 and a free port, and boto3 clients pointed at it."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

from sandbox.template import REGION

CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "sandbox",
    "AWS_SECRET_ACCESS_KEY": "sandbox",
    "AWS_SESSION_TOKEN": "sandbox",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}


class MotoServer:
    """A moto server bound to 127.0.0.1 on a port the OS picks."""

    def __init__(self) -> None:
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.endpoint = ""

    def start(self) -> MotoServer:
        # werkzeug logs every request to stderr; the sandbox's console is for its timeline.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
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
