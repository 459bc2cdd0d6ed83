"""The handlers' process-level state: reset before every schedule, and proven empty.

A Lambda container keeps its module globals between invocations, and so does this process between
schedules: cached clients, cached signing keys, ratelimit's unwritten frame counts (per agent), the
revocation marks ws-message read, the dispatcher's batch processor. Agent ids (`agent-1`, …) and
start times repeat from one schedule to the next, so a count left under `agent-1` changes when the
next schedule's ws-message flushes, hence which AWS call a fault numbered `@n` hits: a schedule would
behave differently after others than alone (a soak batch, Hypothesis's shrinking, a replay).

`leftovers()` does not trust a list of what to reset: it walks every loaded `lambdas.*` module and
reports any module-level mutable object that is neither empty (`STATE`: how to measure and reset
it) nor a constant table left exactly as it was first seen (`TABLES`). A cache added tomorrow
is reported by name until it is listed in one of the two.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Callable
from typing import Any

from lambdas.common import aws, keys, ratelimit, revocation


def _batch_processor(processor: Any) -> int:
    return len(processor.success_messages) + len(processor.fail_messages) + len(processor.exceptions)


def _clear_batch_processor(processor: Any) -> None:
    for records in (processor.success_messages, processor.fail_messages, processor.exceptions):
        records.clear()


# "module.name" -> (entries it holds, how to empty it)
STATE: dict[str, tuple[Callable[[Any], int], Callable[[Any], None]]] = {
    "lambdas.common.aws._clients": (len, lambda _: aws.reset()),
    "lambdas.common.aws._overrides": (len, lambda _: aws.reset()),
    "lambdas.common.keys._cache": (len, lambda _: keys.clear_cache()),
    "lambdas.common.ratelimit.LOCAL": (lambda local: len(local._counts), lambda _: ratelimit.LOCAL.clear()),
    "lambdas.common.revocation.MARKS": (lambda marks: len(marks._marks), lambda _: revocation.MARKS.clear()),
    "lambdas.dispatcher_sqs.handler.processor": (_batch_processor, _clear_batch_processor),
}
# Module-level tables and objects the code only reads: each must stay as it was first seen.
TABLES = {
    "lambdas.common.agent_actions.ACTIONS",
    "lambdas.common.auth.REQUIRED_CLAIMS",
    "lambdas.common.aws._CONFIG",
    "lambdas.common.aws._S3_CONFIG",
    "lambdas.common.batch._TRANSACTION_THROTTLES",
    "lambdas.common.ddb._SERIALIZER",
    "lambdas.common.ddb._DESERIALIZER",
    "lambdas.common.job_updates._NAMES",
    "lambdas.common.jobs._STATUS",
    "lambdas.common.metrics.CONNECT_OUTCOMES",
    "lambdas.common.agent_actions.SCHEMAS",
    "lambdas.common.ratelimit.FRAMES",
    "lambdas.common.ratelimit.LOG_UPLOADS",
    "lambdas.common.ratelimit.PATCH_CHECKS",
    "lambdas.common.session.ACTIONS",
    "lambdas.common.session.OK",
    "lambdas.common.session.UNAUTHORIZED",
    "lambdas.common.session.UNAVAILABLE",
    "lambdas.common.tables.AGENTS",
    "lambdas.common.tables.BY_BREAKER",
    "lambdas.common.tables.BY_HELD_AGENT",
    "lambdas.common.tables.BY_LEASE",
    "lambdas.common.tables.BY_WATCH",
    "lambdas.common.tables.CREATOR_LIMITS",
    "lambdas.common.tables.JOBS",
    "lambdas.common.tables.TABLES",
    "lambdas.common.tracing.tracer",
}
_SCALARS = (str, bytes, int, float, complex, bool, tuple, frozenset, type(None), range)
_CODE = (types.ModuleType, type, types.FunctionType, types.BuiltinFunctionType, types.GenericAlias)
_DECLARATIONS = ("typing", "__future__", "enum", "datetime", "re", "collections.abc")
_first_seen: dict[str, str] = {}


def module_objects() -> dict[str, Any]:
    """Every module-level object of the loaded `lambdas.*` modules that could hold state."""
    found = {}
    for module_name, module in list(sys.modules.items()):
        if not module_name.startswith("lambdas.") or module is None:
            continue
        for name, value in vars(module).items():
            if name.startswith("__") or isinstance(value, _SCALARS):
                continue
            if isinstance(value, _CODE) and not hasattr(value, "cache_info"):
                continue
            if type(value).__module__ in _DECLARATIONS:
                continue
            found[f"{module_name}.{name}"] = value
    return found


def _fingerprint(value: Any) -> str:
    if hasattr(value, "get_current_keys"):  # a Powertools Logger: its appended keys
        return repr(sorted(value.get_current_keys().items()))
    return repr(value)


def reset() -> None:
    """Empty every piece of process-level state (a fresh container)."""
    objects = module_objects()
    for name, (_, clear) in STATE.items():
        if name in objects:
            clear(objects[name])


def leftovers() -> list[str]:
    """What a fresh container would not have: state not empty, a table changed, an unknown global."""
    out = []
    for name, value in sorted(module_objects().items()):
        if name in STATE:
            size = STATE[name][0](value)
            if size:
                out.append(f"{name} holds {size} entries from an earlier schedule")
        elif name in TABLES or hasattr(value, "get_current_keys"):
            seen = _first_seen.setdefault(name, _fingerprint(value))
            if _fingerprint(value) != seen:
                out.append(f"{name} changed since it was first seen")
        else:
            kind = type(value).__name__
            out.append(f"{name}: module-level {kind} neither reset (STATE) nor a table (TABLES)")
    return out
