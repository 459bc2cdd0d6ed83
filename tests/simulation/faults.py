"""Fault injection at every AWS call the handlers make, through botocore's event hooks.

The handlers' own clients (`lambdas.common.aws.client`) get two hooks: `before-call` (runs
before the request; returning a response short-circuits it, which is how a throttle, a 5xx
or a 410 reaches the handler exactly as botocore would raise it once its retries are spent)
and `after-call` (runs once moto has applied the request: a timeout raised there is a
timeout *after the write succeeded*). Every call of one invocation is numbered; a `Fault`
names the call it hits and what happens there. PostToConnection and DeleteConnection never
reach moto (it accepts any connection id): the simulated gateway answers them.

A push-only fault (410, gateway 500) hits the invocation's first PostToConnection, wherever it
comes; `stale_read` (simulation only: stale.py) the first eventually consistent DynamoDB read at
or after its call. A fault counts as fired (`fired`, the coverage) only where it changed what
the handler saw: a timeout or a death after a call that failed anyway, a 410 from a connection
that answers 410 anyway, a stale read of items not written since, or an interleaved actor that
wrote nothing changed nothing; they count in `idle`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from contract import callers
from sandbox.faults import (
    ERRORS,
    GATEWAY,
    PUSH_ONLY,
    InvocationDied,
    error_for,
    error_response,
    fail_after,
)
from sandbox.faults import KINDS as SHARED_KINDS
from tests.simulation.excuses import call_jobs
from tests.simulation.stale import READS, Versions, eventual, keep_params

__all__ = ["KINDS", "Fault", "Injector", "InvocationDied", "error_response"]
KINDS = (*SHARED_KINDS, "stale_read")
# Calls that change something: an interleaved actor that made none changed nothing.
MUTATING = frozenset(
    (
        *("PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"),
        *("SendMessage", "SendMessageBatch", "DeleteMessage", "PostToConnection", "DeleteConnection"),
    )
)


@dataclass(frozen=True)
class Fault:
    at: int  # index of the AWS call, in this invocation, that the fault hits
    kind: str
    twist: int = 0  # interleave only: which actor moves (machine.py: TWISTS)

    def __str__(self) -> str:
        return f"{self.kind}@{self.at}"


class Injector:
    """Numbers the handlers' AWS calls per invocation and fires the invocation's planned fault."""

    def __init__(self, gateway: Any, versions: Versions) -> None:
        self.gateway = gateway
        self.versions = versions
        self.fault: Fault | None = None
        self.calls = 0
        self.planned = 0  # invocations given a fault (it fires only if the invocation reaches its call)
        self.depth = 0  # > 0 while an interleaved actor runs: no faults inside it
        self.fired: Counter[str] = Counter()  # "kind:Operation" -> times it changed something
        self.idle: Counter[str] = Counter()  # "kind:Operation" -> times it hit and changed nothing
        self.writes = 0  # successful mutating calls (an interleaved actor's effect)
        self.ops: Counter[str] = Counter()  # "service.Operation" -> calls seen
        self.interleave: Callable[[], None] | None = None
        self.trace: list[str] = []  # the current invocation's calls (shown with a failure)
        self.touched: set[str] = set()  # the jobs the current invocation's calls touched

    def attach(self, client: Any) -> None:
        client.meta.events.register_first("before-parameter-build.*.*", keep_params)
        client.meta.events.register_first("before-call.*.*", self._before)
        client.meta.events.register_last("after-call.*.*", self._after)

    @contextmanager
    def invocation(self, fault: Fault | None, interleave: Callable[[], None] | None = None) -> Iterator[None]:
        """One Lambda invocation: its calls are numbered from 0 and `fault` may hit one of them."""
        saved = (self.fault, self.calls, self.interleave, self.trace, self.touched)
        self.fault, self.calls, self.interleave, self.trace, self.touched = fault, 0, interleave, [], set()
        self.planned += fault is not None and not self.depth
        try:
            yield
        finally:
            self.fault, self.calls, self.interleave, self.trace, self.touched = saved

    @contextmanager
    def quiet(self) -> Iterator[None]:
        """Calls made inside run fault-free (an interleaved actor, the settling phase)."""
        self.depth += 1
        try:
            yield
        finally:
            self.depth -= 1

    def _due(self, op: str, index: int, params: dict[str, Any]) -> str | None:
        fault = self.fault
        if fault is None or self.depth:
            return None
        if fault.kind in PUSH_ONLY:  # the invocation's first push, wherever it comes
            hit = op == "PostToConnection"
        elif fault.kind == "stale_read":
            hit = op in READS and index >= fault.at and eventual(op, params)
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
        params = context["sim_params"]
        self.touched |= call_jobs(op, params)
        kind = self._due(op, index, params)
        if kind in ("timeout_after_write", "die_after", "stale_read"):
            context["sim_after"] = kind  # effective (or not) once the call is answered
        elif kind == "interleave":
            writes = self.writes
            if self.interleave is not None:
                # another actor: its calls are not the interrupted function's
                with callers.as_nobody(), self.quiet():
                    self.interleave()
            self._hit(kind, self.writes > writes)
        elif kind:
            gone = service == GATEWAY and params["ConnectionId"] not in self.gateway.open
            self._hit(kind, not (kind == "gone_410" and gone))
            if kind == "gone_410" and not gone and params["ConnectionId"] in self.gateway.owner:
                self.gateway.broken_links.add(self.gateway.owner[params["ConnectionId"]])
        if kind == "die_before":
            raise InvocationDied(f"died before {op}")
        if kind in ERRORS:
            return error_for(kind, service)
        if service == GATEWAY:
            return self.gateway.handle(op, params)
        return None

    def _after(
        self, http_response: Any, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any
    ) -> None:
        ok = http_response.status_code < 300
        if ok and model.name in MUTATING:
            self.writes += 1
        kind = context.pop("sim_after", None)
        if kind == "stale_read":
            self._hit(kind, ok and self.versions.stale(model.name, context["sim_params"], parsed))
        elif kind:
            self._hit(kind, ok)
            fail_after(kind, http_response, model)

    def _hit(self, kind: str, effective: bool) -> None:
        """Count the fault that hit the current call: fired if it changed anything, else idle."""
        op = self.trace[-1]
        (self.fired if effective else self.idle)[f"{kind}:{op}"] += 1
        self.trace[-1] = f"{op}{'!' if effective else '~'}{kind}"
