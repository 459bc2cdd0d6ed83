"""SSM Automation, locally: run the template's Automation documents as deployed.

moto does not execute Automation documents, so the sandbox does what SSM would do for our
documents: merge the start parameters (EventBridge sends each as a one-element list) over
the document's defaults, substitute `{{ Name }}` in each `aws:executeScript` step's
InputPayload, and run the step's inlined Python script, calling its Handler. The scripts
see a `time` module whose sleep() and monotonic() run at the sandbox's speed, so their
waits and rate limits are compressed like everything else; their boto3 clients reach moto
through AWS_ENDPOINT_URL.
"""

from __future__ import annotations

import builtins
import re
import threading
import time
import types
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from contract.callers import AUTOMATION, Caller, acting_as
from sandbox.clock import SimClock
from sandbox.template import Resolver


@dataclass
class Execution:
    """One automation run, with production timestamps."""

    document: str
    parameters: dict[str, Any]
    started: float
    finished: float | None = None
    status: str = "InProgress"  # InProgress | Success | Failed | TimedOut
    outputs: list[Any] = field(default_factory=list)
    error: str = ""
    id: str = field(default_factory=lambda: str(uuid.uuid4()))


def _scaled_time(clock: SimClock) -> types.ModuleType:
    """A `time` module whose sleep and monotonic follow the sandbox clock."""
    shim = types.ModuleType("time")
    shim.__dict__.update({k: getattr(time, k) for k in dir(time) if not k.startswith("__")})
    shim.sleep = lambda seconds: time.sleep(clock.real(seconds))  # type: ignore[attr-defined]
    shim.monotonic = lambda: time.monotonic() * clock.speed  # type: ignore[attr-defined]
    return shim


def _substitute(value: Any, params: dict[str, Any]) -> Any:
    if isinstance(value, str):
        whole = re.fullmatch(r"\{\{\s*(\w+)\s*\}\}", value)
        if whole:
            return params.get(whole.group(1))
        return re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: str(params.get(m.group(1), "")), value)
    if isinstance(value, dict):
        return {k: _substitute(v, params) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, params) for v in value]
    return value


class Automation:
    """Runs Automation documents by name; keeps every execution for the timeline."""

    def __init__(self, resolver: Resolver, clock: SimClock, deployment: str = "") -> None:
        self.clock = clock
        self.deployment = deployment  # the recorder's name for this sandbox (sandbox/iam/recorder.py)
        self.documents: dict[str, dict[str, Any]] = {}
        for logical_id, props in resolver.of_type("AWS::SSM::Document"):
            if props.get("DocumentType") == "Automation":
                name = resolver.resolve(props.get("Name")) or logical_id
                self.documents[name] = resolver.resolve(props["Content"])
        self.executions: list[Execution] = []
        self.listeners: list[Callable[[Execution], None]] = []
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def start(self, document: str, parameters: dict[str, Any]) -> Execution:
        """StartAutomationExecution: run in the background, like SSM."""
        if document not in self.documents:
            raise KeyError(f"no Automation document named {document!r} in the template")
        params = {
            name: spec.get("default")
            for name, spec in self.documents[document].get("parameters", {}).items()
            if "default" in spec
        }
        params.update({k: v[0] if isinstance(v, list) and len(v) == 1 else v for k, v in parameters.items()})
        _check_allowed(self.documents[document].get("parameters", {}), params)
        execution = Execution(document, params, self.clock.now())
        with self._lock:
            self.executions.append(execution)
        self._notify(execution)
        thread = threading.Thread(target=self._run, args=(execution,), name=f"ssm-{document}", daemon=True)
        self._threads.append(thread)
        thread.start()
        return execution

    def wait(self, timeout: float = 30) -> None:
        """Wait for every started execution to finish (real seconds)."""
        deadline = time.monotonic() + timeout
        for thread in list(self._threads):
            thread.join(max(0.0, deadline - time.monotonic()))

    def _notify(self, execution: Execution) -> None:
        for listener in self.listeners:
            listener(execution)

    def _run(self, execution: Execution) -> None:
        content = self.documents[execution.document]
        timed_out = False
        try:
            for step in content.get("mainSteps", []):
                if step.get("action") != "aws:executeScript":
                    raise ValueError(f"step {step.get('name')!r}: only aws:executeScript runs in the sandbox")
                inputs = step["inputs"]
                payload = _substitute(inputs.get("InputPayload", {}), execution.parameters)
                # The step runs as the document's assumeRole: its calls are that role's.
                started = self.clock.now()
                with acting_as(Caller(AUTOMATION, execution.document, self.deployment)):
                    execution.outputs.append(self._script(inputs["Script"], inputs["Handler"], payload))
                # SSM stops a step at its timeoutSeconds; the sandbox cannot stop a thread, so a step
                # that ran longer (production time) ends the execution TimedOut when it returns.
                if self.clock.now() - started > float(step.get("timeoutSeconds", float("inf"))):
                    timed_out = True
                    raise TimeoutError(f"step {step.get('name')!r} ran past its timeoutSeconds")
            execution.status = "Success"
        except Exception as exc:  # the execution fails; the sandbox keeps running
            execution.status = "TimedOut" if timed_out else "Failed"
            execution.error = f"{type(exc).__name__}: {exc}"
        execution.finished = self.clock.now()
        self._notify(execution)

    def _script(self, script: str, handler: str, payload: dict[str, Any]) -> Any:
        shim = _scaled_time(self.clock)
        real_import = builtins.__import__

        def scoped_import(name: str, *args: Any, **kwargs: Any) -> Any:
            return shim if name == "time" else real_import(name, *args, **kwargs)

        namespace: dict[str, Any] = {
            "__name__": "ssm_script",
            "__builtins__": {**builtins.__dict__, "__import__": scoped_import},
        }
        exec(compile(script, "<automation script>", "exec"), namespace)  # noqa: S102 - the template's own script
        return namespace[handler](payload, None)


def _check_allowed(specs: dict[str, Any], params: dict[str, Any]) -> None:
    """StartAutomationExecution's parameter validation: a value outside allowedValues is refused."""
    for name, spec in specs.items():
        if "allowedValues" in spec and params.get(name) not in spec["allowedValues"]:
            raise ValueError(f"parameter {name}: {params.get(name)!r} is not one of its allowed values")
