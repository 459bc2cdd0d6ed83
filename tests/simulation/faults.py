"""Fault injection at every AWS call the handlers make, through botocore's event hooks.

The handlers' own clients (`lambdas.common.aws.client`) get two hooks: `before-call` (runs
before the request; returning a response short-circuits it, which is how a throttle, a 5xx
or a 410 reaches the handler exactly as botocore would raise it once its retries are spent)
and `after-call` (runs once moto has applied the request: a timeout raised there is a
timeout *after the write succeeded*). Every call of one invocation is numbered; a `Fault`
names the call it hits and what happens there. PostToConnection and DeleteConnection never
reach moto (it accepts any connection id): the simulated gateway answers them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sandbox.faults import (
    ERRORS,
    GATEWAY,
    KINDS,
    PUSH_ONLY,
    InvocationDied,
    error_for,
    error_response,
    fail_after,
)

__all__ = ["KINDS", "Fault", "Injector", "InvocationDied", "error_response"]


@dataclass(frozen=True)
class Fault:
    at: int  # index of the AWS call, in this invocation, that the fault hits
    kind: str
    twist: int = 0  # interleave only: which actor moves (machine.py: TWISTS)

    def __str__(self) -> str:
        return f"{self.kind}@{self.at}"


def _keep_params(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    # before-call sees the serialized request; the gateway wants the operation's own parameters.
    context["sim_params"] = dict(params)


class Injector:
    """Numbers the handlers' AWS calls per invocation and fires the invocation's planned fault."""

    def __init__(self, gateway: Any) -> None:
        self.gateway = gateway
        self.fault: Fault | None = None
        self.calls = 0
        self.planned = 0  # invocations given a fault (it fires only if the invocation reaches its call)
        self.depth = 0  # > 0 while an interleaved actor runs: no faults inside it
        self.fired: Counter[str] = Counter()  # "kind:Operation" -> times
        self.ops: Counter[str] = Counter()  # "service.Operation" -> calls seen
        self.interleave: Callable[[], None] | None = None
        self.trace: list[str] = []  # the current invocation's calls (shown with a failure)

    def attach(self, client: Any) -> None:
        client.meta.events.register_first("before-parameter-build.*.*", _keep_params)
        client.meta.events.register_first("before-call.*.*", self._before)
        client.meta.events.register_last("after-call.*.*", self._after)

    @contextmanager
    def invocation(self, fault: Fault | None, interleave: Callable[[], None] | None = None) -> Iterator[None]:
        """One Lambda invocation: its calls are numbered from 0 and `fault` may hit one of them."""
        saved = (self.fault, self.calls, self.interleave, self.trace)
        self.fault, self.calls, self.interleave, self.trace = fault, 0, interleave, []
        self.planned += fault is not None and not self.depth
        try:
            yield
        finally:
            self.fault, self.calls, self.interleave, self.trace = saved

    @contextmanager
    def quiet(self) -> Iterator[None]:
        """Calls made inside run fault-free (an interleaved actor, the settling phase)."""
        self.depth += 1
        try:
            yield
        finally:
            self.depth -= 1

    def _due(self, op: str, index: int) -> str | None:
        fault = self.fault
        if fault is None or self.depth:
            return None
        if fault.kind in PUSH_ONLY:
            hit = op == "PostToConnection" and index >= fault.at
        else:
            hit = index == fault.at
        if hit:
            self.fault = None  # one shot
            return fault.kind
        return None

    def _before(self, model: Any, params: dict[str, Any], context: dict[str, Any], **_: Any) -> Any:
        service, op = model.service_model.service_name, model.name
        index = self.calls
        self.calls += 1
        self.ops[f"{service}.{op}"] += 1
        self.trace.append(op)
        kind = self._due(op, index)
        if kind:
            self.fired[f"{kind}:{op}"] += 1
            self.trace[-1] = f"{op}!{kind}"
        if kind == "die_before":
            raise InvocationDied(f"died before {op}")
        if kind == "interleave" and self.interleave is not None:
            with self.quiet():
                self.interleave()
        if kind in ("timeout_after_write", "die_after"):
            context["sim_after"] = kind
        elif kind in ERRORS:
            return error_for(kind, service)
        if service == GATEWAY:
            return self.gateway.handle(op, context["sim_params"])
        return None

    def _after(self, http_response: Any, model: Any, context: dict[str, Any], **_: Any) -> None:
        fail_after(context.pop("sim_after", None), http_response, model)
