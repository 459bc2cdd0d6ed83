"""EventBridge event patterns, enough to tell which rules a CloudWatch alarm state change starts.

Reference: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html and
https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html .
Supported: exact values (strings, numbers, booleans, null) in lists, nested objects, and the
operators `prefix`, `suffix`, `anything-but`, `exists`, `equals-ignore-case`, `wildcard`,
`numeric`. Any other operator is an error, never a silent non-match.
"""

from __future__ import annotations

import fnmatch
import operator
from typing import Any

from monitoring.evaluator.model import EvaluatorError

_NUMERIC = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "=": operator.eq}


def matches(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    """True when `event` matches `pattern` (every field of the pattern must match)."""
    if not isinstance(pattern, dict):
        raise EvaluatorError(f"malformed event pattern {pattern!r}: expected an object")
    for key, rule in pattern.items():
        present = key in event
        value = event.get(key)
        if isinstance(rule, dict):
            if not (present and isinstance(value, dict) and matches(rule, value)):
                return False
            continue
        if not isinstance(rule, list):
            raise EvaluatorError(f"malformed event pattern at {key!r}: expected a list or an object")
        if not _field_matches(rule, present, value):
            return False
    return True


def _field_matches(options: list[Any], present: bool, value: Any) -> bool:
    values = value if isinstance(value, list) else [value]
    for option in options:
        if isinstance(option, dict):
            if _operator_matches(option, present, values):
                return True
        elif present and option in values:
            return True
    return False


def _operator_matches(option: dict[str, Any], present: bool, values: list[Any]) -> bool:
    if len(option) != 1:
        raise EvaluatorError(f"malformed event pattern operator {option!r}")
    ((name, arg),) = option.items()
    if name == "exists":
        return present is bool(arg)
    if not present:
        return False
    strings = [v for v in values if isinstance(v, str)]
    if name == "prefix":
        return any(s.startswith(_text(arg, name)) for s in strings)
    if name == "suffix":
        return any(s.endswith(_text(arg, name)) for s in strings)
    if name == "equals-ignore-case":
        return any(s.lower() == _text(arg, name).lower() for s in strings)
    if name == "wildcard":
        return any(fnmatch.fnmatchcase(s, _text(arg, name)) for s in strings)
    if name == "anything-but":
        return all(not _excluded(arg, v) for v in values)
    if name == "numeric":
        return any(_numeric(arg, v) for v in values if isinstance(v, int | float))
    raise EvaluatorError(
        f"unsupported event pattern operator {name!r} (supported: prefix, suffix, anything-but, "
        "exists, equals-ignore-case, wildcard, numeric)"
    )


def _text(arg: Any, name: str) -> str:
    if not isinstance(arg, str):
        raise EvaluatorError(f"event pattern operator {name!r} needs a string, got {arg!r}")
    return arg


def _excluded(arg: Any, value: Any) -> bool:
    if isinstance(arg, dict):
        return _operator_matches(arg, True, [value])
    if isinstance(arg, list):
        return value in arg
    return value == arg


def _numeric(arg: list[Any], value: float) -> bool:
    for i in range(0, len(arg) - 1, 2):
        op = _NUMERIC.get(arg[i])
        if op is None:
            raise EvaluatorError(f"unsupported numeric comparison {arg[i]!r} in event pattern")
        if not op(value, arg[i + 1]):
            return False
    return True
