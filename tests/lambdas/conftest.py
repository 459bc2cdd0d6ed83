"""moto-backed AWS for the Lambda tests: tables, GSIs, queues and buckets as docs/contracts.md."""

from __future__ import annotations

import functools
import importlib
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws

from contract.callers import FUNCTION, Caller, acting_as
from contract.names import Names
from lambdas.common import aws, keys, ratelimit, revocation
from sandbox.iam import recorder
from tests.lambdas.helpers import ENV, REGION
from tests.lambdas.resources import create_resources

_SESSION = boto3.Session(region_name=REGION)
HANDLERS = (
    "ws_connect",
    "ws_message",
    "ws_disconnect",
    "dispatcher_sqs",
    "lease_reaper",
    "secret_rotation",
    "probe",
)
DEPLOYMENT = "lambdas-tests"  # the recorder's name for these tests' moto account


def _run_as_its_function(package: str) -> None:
    """Each handler runs as its function (stage `test`), so the calls it makes are recorded as that
    function's role. Wrapped once, before the test modules import the handlers."""
    module = importlib.import_module(f"lambdas.{package}.handler")
    handler = module.handler
    if getattr(handler, "_runs_as_its_function", False):  # not __wrapped__: the tracer wraps it too
        return
    caller = Caller(FUNCTION, Names(ENV["STAGE"]).function(package.replace("_", "-")), DEPLOYMENT)

    @functools.wraps(handler)
    def as_function(event: Any, context: Any) -> Any:
        with acting_as(caller):
            return handler(event, context)

    as_function._runs_as_its_function = True  # type: ignore[attr-defined]
    module.handler = as_function


for _package in HANDLERS:
    _run_as_its_function(_package)


def as_function(function: str) -> Any:
    """Run a block as `function` (e.g. "secret-rotation"): for a test that drives a handler's core
    directly, so its calls are recorded as that function's role as the handler's would be."""
    return acting_as(Caller(FUNCTION, Names(ENV["STAGE"]).function(function), DEPLOYMENT))


class _CurrentStdout:
    """Writes to whatever sys.stdout is at write time (pytest swaps it per test)."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


@dataclass
class Output:
    """What the handlers printed: Powertools JSON log records and EMF documents."""

    capsys: Any
    _lines: list[dict[str, Any]]

    def _read(self) -> list[dict[str, Any]]:
        for line in self.capsys.readouterr().out.splitlines():
            try:
                doc = json.loads(line)
            except ValueError:
                continue
            if isinstance(doc, dict):
                self._lines.append(doc)
        return self._lines

    def logs(self) -> list[dict[str, Any]]:
        return [d for d in self._read() if "_aws" not in d]

    def messages(self) -> list[str]:
        return [str(d.get("message")) for d in self.logs()]

    def emf(self) -> list[dict[str, Any]]:
        return [d for d in self._read() if "_aws" in d]

    def raw(self) -> str:
        return "\n".join(json.dumps(d) for d in self._read())


@pytest.fixture
def queues(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """A fresh moto account with every resource; the handlers' env points at it."""
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("WS_JWT_SECRET_ARN", raising=False)
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    aws.reset()
    keys.clear_cache()
    ratelimit.LOCAL.clear()  # frames counted in memory belong to one test's connections
    revocation.MARKS.clear()  # so do the revocation marks a container read
    with mock_aws():
        # One botocore session for every test: its loader caches the service models, which
        # otherwise are parsed again for each client (moto resets boto3's default session).
        boto3.DEFAULT_SESSION = _SESSION
        urls = create_resources()
        for name, value in urls.items():
            monkeypatch.setenv(name, value)
        bind_handler_tests(urls)
        yield urls
    aws.reset()
    keys.clear_cache()


_bound: set[str] = set()


def bind_handler_tests(urls: dict[str, str]) -> dict[str, Any]:
    """How the template of stage `test` maps onto this moto account: the functions' environment."""
    binding = {"stage": ENV["STAGE"], "region": REGION, "env": {**ENV, **urls}}
    if DEPLOYMENT not in _bound:  # once per process: every test's account has the same names
        _bound.add(DEPLOYMENT)
        recorder.bind(DEPLOYMENT, **binding)
    return {"binding": DEPLOYMENT, **binding}


@pytest.fixture
def out(capsys: pytest.CaptureFixture[str], queues: dict[str, str]) -> Output:
    """Handler output; Powertools' handler is pointed at the captured stdout."""
    for name in HANDLERS:
        module = importlib.import_module(f"lambdas.{name}.handler")
        # Assigned, not setStream(): that flushes the old stream, which may be the closed capture
        # of an earlier pytest session in this process (mutmut runs several in one).
        module.logger.registered_handler.stream = _CurrentStdout()
    return Output(capsys, [])


@pytest.fixture
def api(queues: dict[str, str]) -> Any:
    """The handlers' management API, recording frames and closes (helpers.ManagementApi)."""
    from tests.lambdas.helpers import ManagementApi

    recorder = ManagementApi()
    aws.override("apigatewaymanagementapi", recorder)
    return recorder


@pytest.fixture
def online(out: Output, clock: Any) -> str:
    """agent-1 of creator-1 connected as conn-1 at the frozen NOW; returns the connection id.

    It takes `clock` so the connection is made under the frozen clock whatever order a test
    names its fixtures in: made on the wall clock, its age under NOW would be negative.
    """
    from lambdas.ws_connect.handler import handler as connect
    from tests.lambdas.helpers import connect_event, token

    assert connect(connect_event(token("agent-1", "creator-1"), "conn-1"), None) == {"statusCode": 200}
    out.logs()  # drop the connect log lines
    return "conn-1"


NOW = 1_795_872_600  # 2026-11-28T13:30:00Z: the handlers' frozen "now", never the wall clock
DAY = "2026-11-28"  # the UTC day of NOW: the key of the daily quota counter


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Freeze the handlers' clock at NOW; `clock.set(t)` moves it."""
    from lambdas.common import clock as lambda_clock

    class _Clock:
        value = NOW

        def set(self, value: int) -> None:
            self.value = value

    frozen = _Clock()
    monkeypatch.setattr(lambda_clock, "now", lambda: frozen.value)
    return frozen
