"""moto in server mode on 127.0.0.1 and free ports, and boto3 clients pointed at it.

Two child processes (sandbox/moto_process.py), each its own interpreter and GIL: one serves
DynamoDB (the sandbox's heaviest service: every assignment, ack and result writes there and
moto runs its requests one at a time), the other every other service. On a 2-core machine
moto and the sandbox's functions and agents then run side by side instead of taking turns
on one core. boto3 finds the DynamoDB one through AWS_ENDPOINT_URL_DYNAMODB.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import boto3

from sandbox.template import REGION

REPO_ROOT = Path(__file__).resolve().parent.parent
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "sandbox",
    "AWS_SECRET_ACCESS_KEY": "sandbox",
    "AWS_SESSION_TOKEN": "sandbox",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}
START_TIMEOUT_S = 60


def _spawn() -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "sandbox.moto_process"],
        cwd=REPO_ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        text=True,
    )


def _endpoint(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    line = process.stdout.readline()  # `port <n>` once listening
    if not line.startswith("port "):
        raise RuntimeError(f"the moto server did not start (it printed {line!r})")
    return f"http://127.0.0.1:{int(line.split()[1])}"


class MotoServer:
    """moto bound to 127.0.0.1 on ports the OS picks: DynamoDB in one child, the rest in another."""

    def __init__(self) -> None:
        self.endpoint = ""  # every service but DynamoDB
        self.dynamodb_endpoint = ""
        self._processes: list[subprocess.Popen[str]] = []

    def start(self) -> MotoServer:
        self._processes = [_spawn(), _spawn()]  # both start (import moto) at the same time
        try:
            self.endpoint, self.dynamodb_endpoint = (_endpoint(p) for p in self._processes)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for process in self._processes:
            if process.poll() is None:
                process.terminate()
        for process in self._processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)

    def environ(self) -> dict[str, str]:
        """Env vars that point every boto3 client in this process at the servers."""
        return {
            **CREDENTIALS,
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ENDPOINT_URL_DYNAMODB": self.dynamodb_endpoint,
        }

    def shell_environ(self) -> str:
        """The endpoint variables as a shell prefix (`AWS_ENDPOINT_URL=... AWS_ENDPOINT_URL_DYNAMODB=...`)."""
        return f"AWS_ENDPOINT_URL={self.endpoint} AWS_ENDPOINT_URL_DYNAMODB={self.dynamodb_endpoint}"

    def export(self) -> None:
        """Point boto3 in this process (the handlers, the automation scripts) at moto."""
        os.environ.update(self.environ())

    def client_factory(self) -> Callable[[str], Any]:
        """A function making boto3 clients bound to this server."""
        session = boto3.session.Session(
            aws_access_key_id="sandbox", aws_secret_access_key="sandbox", region_name=REGION
        )

        def make(service: str) -> Any:
            endpoint = self.dynamodb_endpoint if service == "dynamodb" else self.endpoint
            return session.client(service, endpoint_url=endpoint)

        return make


def queue_messages(name: str, endpoint: str | None = None) -> list[dict[str, Any]]:
    """Every message of queue `name` ({body, sent (ms), visible, delayed}), without receiving it.

    `endpoint` defaults to the server the sandbox exported (AWS_ENDPOINT_URL).
    """
    base = endpoint or os.environ["AWS_ENDPOINT_URL"]
    with urllib.request.urlopen(f"{base}/_sandbox/queues/{quote(name, safe='')}", timeout=30) as response:
        return json.loads(response.read())
