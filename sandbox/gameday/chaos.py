"""The `chaos` game day: random AWS faults in every handler during live traffic, then recovery.

For `minutes` production minutes, each AWS call a handler makes inside a Lambda invocation
fails with probability `rate`, with a fault drawn from sandbox/faults.py (the simulation's list,
less `interleave`: live traffic interleaves by itself): throttling, a 5xx, a timeout after the
write succeeded, PostToConnection 410 and 500, the invocation dying before or after a call.
Then the faults stop, the system recovers by itself (SQS redelivery, the reaper, the guarded
redrive the DLQ alarm starts), and the game day accounts for every job: lost must be 0 and no
job may complete twice. The alarms are reported, not judged: which ones fire depends on the draw.
"""

from __future__ import annotations

import importlib
import random
import threading
from collections import Counter
from typing import Any

from sandbox.capture import current_function
from sandbox.faults import ERRORS, KINDS, PUSH_ONLY, InvocationDied, error_for, fail_after
from sandbox.lambda_runtime import InvocationError, LambdaRuntime

CHAOS_KINDS = tuple(k for k in KINDS if k != "interleave")
SERVICES = ("dynamodb", "sqs", "apigatewaymanagementapi")


class Chaos:
    """Draws faults for the handlers' AWS calls while `active`; counts what it injected."""

    def __init__(self, rate: float, seed: int) -> None:
        self.rate = rate
        self.seed = seed
        self.active = False
        self.fired: Counter[str] = Counter()
        self.calls = 0
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    def install(self, runtime: LambdaRuntime) -> None:
        """Hook the handlers' clients and the runtime.

        The sandbox re-imports `lambdas` when it starts (each sandbox is a fresh deployment), so
        the module is looked up now, not at import: its cached clients are the handlers' own.
        """
        aws = importlib.import_module("lambdas.common.aws")
        for service in SERVICES:
            events = aws.client(service).meta.events
            events.register_first("before-call.*.*", self._before)
            events.register_last("after-call.*.*", self._after)
        invoke = runtime.invoke

        def invoke_or_die(name: str, event: dict[str, Any]) -> Any:
            try:
                return invoke(name, event)
            except InvocationDied as died:  # Lambda reports a function error; SQS redelivers
                runtime.metrics.put("AWS/Lambda", "Errors", 1, {"FunctionName": name})
                raise InvocationError(f"{name}: the invocation died ({died})") from None

        runtime.invoke = invoke_or_die  # type: ignore[method-assign]

    def _draw(self, op: str) -> str | None:
        if not self.active or current_function() is None:
            return None
        with self._lock:
            self.calls += 1
            if self._rng.random() >= self.rate:
                return None
            kind = self._rng.choice(CHAOS_KINDS)
        if kind in PUSH_ONLY and op != "PostToConnection":
            return None
        self.fired[kind] += 1
        return kind

    def _before(self, model: Any, context: dict[str, Any], **_: Any) -> Any:
        kind = self._draw(model.name)
        if kind == "die_before":
            raise InvocationDied(f"before {model.name}")
        if kind in ("timeout_after_write", "die_after"):
            context["chaos_after"] = kind
        elif kind in ERRORS:
            return error_for(kind, model.service_model.service_name)
        return None

    def _after(self, http_response: Any, model: Any, context: dict[str, Any], **_: Any) -> None:
        fail_after(context.pop("chaos_after", None), http_response, model)

    def summary(self) -> str:
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(self.fired.items())) or "none"
        return (
            f"{sum(self.fired.values())} faults in {self.calls} handler AWS calls (seed {self.seed}): {kinds}"
        )


def chaos_run(minutes: float, rate: float, seed: int | None = None) -> Any:
    """The scenario's run function: `minutes` production minutes of faults at `rate` per call."""

    def run(g: Any) -> None:
        chaos = Chaos(rate, seed if seed is not None else random.SystemRandom().randrange(2**31))
        chaos.install(g.box.runtime)
        g.fault(
            f"chaos for {minutes:g} min: {rate:.0%} of the handlers' AWS calls fail"
            f" ({', '.join(CHAOS_KINDS)}; seed {chaos.seed})"
        )
        chaos.active = True
        try:
            g.wait_minutes(minutes)
        finally:
            chaos.active = False
        g.action(f"chaos over: {chaos.summary()}")
        g.wait_recovered()

    return run
