"""Run the unmodified Lambda handlers in-process, the way Lambda would.

Functions, handlers, timeouts, reserved concurrency and environment come from the
synthesized template. Each invocation runs with a Lambda-like context object; its stdout
goes to the function's log group (see capture.py); the runtime records the AWS/Lambda
metrics the alarms use (Invocations, Errors, Throttles, Duration, ConcurrentExecutions).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from contract.callers import FUNCTION, Caller, acting_as
from sandbox.capture import running
from sandbox.metrics import MetricStore
from sandbox.template import ACCOUNT, REGION, Resolver

REPO_ROOT = Path(__file__).resolve().parent.parent
# Lambda's default account concurrency: only reserved concurrency throttles in the sandbox
# (the real bound on parallel invocations is the gateway's and pollers' thread pools).
SANDBOX_CONCURRENCY = 1000
# Execution environments kept per function (each one runs one invocation at a time).
ENVIRONMENTS_PER_FUNCTION = 4


class Throttled(Exception):
    """The function is at its concurrency limit (Lambda's 429 TooManyRequestsException)."""


class InvocationError(Exception):
    """The handler raised; Lambda reports this as a function error."""


@dataclass
class FunctionSpec:
    """A function as the template declares it."""

    logical_id: str
    name: str
    handler: str
    timeout: int
    memory: int
    reserved: int | None
    env: dict[str, str]


@dataclass
class LambdaContext:
    """The attributes of the Lambda context object that handlers and Powertools read."""

    function_name: str
    memory_limit_in_mb: int
    timeout_s: int
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return f"sandbox/{self.aws_request_id}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_s - (time.monotonic() - self.started)) * 1000))


def read_functions(resolver: Resolver) -> dict[str, FunctionSpec]:
    """Every AWS::Lambda::Function of the template, by physical name."""
    specs = {}
    for logical_id, props in resolver.of_type("AWS::Lambda::Function"):
        handler = props.get("Handler", "")
        if not handler or "Code" in props and "ZipFile" in props["Code"]:
            continue  # CDK-internal custom resources (inline code) are not the system's functions
        name = resolver.resolve(props.get("FunctionName")) or logical_id
        variables = resolver.resolve(props.get("Environment", {}).get("Variables", {}))
        specs[name] = FunctionSpec(
            logical_id=logical_id,
            name=name,
            handler=handler,
            timeout=int(props.get("Timeout", 3)),
            memory=int(props.get("MemorySize", 128)),
            reserved=props.get("ReservedConcurrentExecutions"),
            env={k: str(v) for k, v in variables.items() if v is not None},
        )
        resolver.set(logical_id, name, Arn=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}")
    return specs


def load_handler(handler: str, environment: int = 0) -> Callable[[dict[str, Any], Any], Any]:
    """Import `dir/module.attr` or `package.module.attr` the way the Lambda runtime does.

    Environment 0 is the normal import; every other environment gets its own copy of the
    handler module (its module-level objects, e.g. Powertools' BatchProcessor, are per
    execution environment on Lambda). Shared library modules stay shared.
    """
    module_path, attr = handler.replace("/", ".").rsplit(".", 1)
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    if environment == 0:
        return getattr(importlib.import_module(module_path), attr)
    spec = importlib.util.find_spec(module_path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot find handler module {module_path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, attr)


def cold_start(handlers: list[str]) -> Callable[[], None]:
    """Forget imported handler packages so this sandbox's functions start cold.

    Handlers cache boto3 clients and secrets in module state, bound to the moto server they
    first saw. A new sandbox is a new deployment; the returned function puts the previous
    modules back (other code in the process keeps the modules it imported).
    """
    roots = {h.replace("/", ".").split(".")[0] for h in handlers}

    def ours(name: str) -> bool:
        return name.split(".")[0] in roots

    saved = {name: module for name, module in sys.modules.items() if ours(name)}
    for name in saved:
        del sys.modules[name]

    def restore() -> None:
        for name in [n for n in sys.modules if ours(n)]:
            del sys.modules[name]
        sys.modules.update(saved)

    return restore


_cold_start_lock = threading.Lock()


class _Environments:
    """Up to `size` execution environments of one function; an invocation takes one or waits."""

    def __init__(self, handler: str, size: int, service: str | None = None) -> None:
        self.handler = handler
        self.service = service
        self._idle: list[Callable[[dict[str, Any], Any], Any]] = []
        self._created = 0
        self._size = size
        self._available = threading.Semaphore(size)
        self._lock = threading.Lock()

    def acquire(self) -> Callable[[dict[str, Any], Any], Any]:
        self._available.acquire()
        with self._lock:
            if self._idle:
                return self._idle.pop()
            index = self._created
            self._created += 1
        try:
            return self._cold_start(index)
        except BaseException:
            with self._lock:
                self._created -= 1
            self._available.release()
            raise

    def _cold_start(self, index: int) -> Callable[[dict[str, Any], Any], Any]:
        # Powertools reads POWERTOOLS_SERVICE_NAME when the handler module builds its Logger;
        # the functions share one os.environ, so each import sees its own function's value.
        with _cold_start_lock:
            previous = os.environ.get("POWERTOOLS_SERVICE_NAME")
            if self.service:
                os.environ["POWERTOOLS_SERVICE_NAME"] = self.service
            try:
                return load_handler(self.handler, index)
            finally:
                if previous is None:
                    os.environ.pop("POWERTOOLS_SERVICE_NAME", None)
                else:
                    os.environ["POWERTOOLS_SERVICE_NAME"] = previous

    def release(self, handler: Callable[[dict[str, Any], Any], Any]) -> None:
        with self._lock:
            self._idle.append(handler)
        self._available.release()


class LambdaRuntime:
    """Invokes functions synchronously, with concurrency limits, faults and metrics."""

    def __init__(
        self, functions: dict[str, FunctionSpec], metrics: MetricStore, deployment: str = ""
    ) -> None:
        self.functions = functions
        self.metrics = metrics
        self.deployment = deployment  # the recorder's name for this sandbox (sandbox/iam/recorder.py)
        self.faults: dict[str, str] = {}  # function name -> injected failure message
        self.delays: dict[str, float] = {}  # function name -> injected real seconds of latency
        self._limits: dict[str, threading.BoundedSemaphore] = {}
        # Lambda runs one invocation at a time per execution environment and handlers keep
        # per-invocation state at module level, so each environment has its own module copy.
        self._environments = {
            spec.name: _Environments(
                spec.handler, ENVIRONMENTS_PER_FUNCTION, spec.env.get("POWERTOOLS_SERVICE_NAME")
            )
            for spec in functions.values()
        }
        for spec in functions.values():
            self.set_concurrency(spec.name, spec.reserved)

    def export_environment(self, overrides: dict[str, str]) -> None:
        """Set the functions' environment in this process (handlers share one process)."""
        merged: dict[str, str] = {}
        for spec in self.functions.values():
            merged.update(spec.env)
        merged.update(overrides)
        os.environ.update(merged)

    def set_concurrency(self, name: str, reserved: int | None) -> None:
        """Reserved concurrency, as an operator would set it (0 throttles everything)."""
        limit = SANDBOX_CONCURRENCY if reserved is None else min(int(reserved), SANDBOX_CONCURRENCY)
        self._limits[name] = threading.BoundedSemaphore(limit) if limit > 0 else threading.BoundedSemaphore(1)
        if limit == 0:
            self._limits[name].acquire()  # nothing may run

    def spec(self, suffix: str) -> FunctionSpec:
        """The function whose name ends with `suffix` (e.g. 'dispatcher-sqs')."""
        for name, spec in self.functions.items():
            if name.endswith(suffix):
                return spec
        raise KeyError(f"the template declares no function ending in {suffix!r}")

    def invoke(self, name: str, event: dict[str, Any]) -> Any:
        """Run the handler once; raise Throttled or InvocationError like Lambda's Invoke."""
        spec = self.functions[name]
        dims = {"FunctionName": name}
        limit = self._limits[name]
        if not limit.acquire(blocking=False):
            self.metrics.put("AWS/Lambda", "Throttles", 1, dims)
            raise Throttled(name)
        started = time.perf_counter()
        try:
            self.metrics.put("AWS/Lambda", "Invocations", 1, dims)
            with running(name), acting_as(Caller(FUNCTION, name, self.deployment)):
                return self._run(spec, event)
        finally:
            # Handler code runs at real speed: Duration is real milliseconds, not scaled.
            self.metrics.put("AWS/Lambda", "Duration", (time.perf_counter() - started) * 1000, dims)
            limit.release()

    def _run(self, spec: FunctionSpec, event: dict[str, Any]) -> Any:
        dims = {"FunctionName": spec.name}
        environments = self._environments[spec.name]
        try:
            if spec.name in self.delays:
                time.sleep(self.delays[spec.name])
            if spec.name in self.faults:
                raise RuntimeError(self.faults[spec.name])
            handler = environments.acquire()
            try:
                return handler(event, LambdaContext(spec.name, spec.memory, spec.timeout))
            finally:
                environments.release(handler)
        except Exception as exc:
            self.metrics.put("AWS/Lambda", "Errors", 1, dims)
            # Lambda writes the unhandled error to the function's log group.
            print(f"[ERROR] {type(exc).__name__}: {exc}\n{traceback.format_exc(limit=3)}".rstrip())
            raise InvocationError(f"{spec.name}: {type(exc).__name__}: {exc}") from exc
