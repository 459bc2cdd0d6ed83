"""Composite alarm rules: a small recursive-descent parser and evaluator.

Syntax (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutCompositeAlarm.html):
`ALARM(x)`, `OK(x)`, `INSUFFICIENT_DATA(x)` where x is an alarm name or ARN, optionally in double
quotes; `TRUE`, `FALSE`; `AND`, `OR`, `NOT`; parentheses. `NOT` binds tighter than `AND`, which
binds tighter than `OR` (chosen: the usual boolean precedence; CDK always parenthesises).
A composite is ALARM when its rule is TRUE and OK otherwise.
Nodes: ("state", STATE, alarm name) ("const", bool) ("not", x) ("and", a, b) ("or", a, b).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from monitoring.evaluator.model import ALARM, INSUFFICIENT_DATA, OK, EvaluatorError

_FUNCS = (ALARM, OK, INSUFFICIENT_DATA)
_WORD = re.compile(r"\s*([A-Za-z_]+|\(|\))")
_ARN_NAME = re.compile(r"^arn:[^:]+:cloudwatch:[^:]*:[^:]*:alarm:(.+)$")
Rule = tuple[Any, ...]


class _RuleParser:
    def __init__(self, text: str, known: set[str]) -> None:
        self.text, self.known, self.pos = text, known, 0

    def error(self, what: str) -> EvaluatorError:
        return EvaluatorError(f"composite rule {self.text!r}: {what} at position {self.pos}")

    def word(self) -> str | None:
        match = _WORD.match(self.text, self.pos)
        return match.group(1) if match else None

    def take(self) -> str:
        match = _WORD.match(self.text, self.pos)
        if not match:
            raise self.error("ends too early" if not self.text[self.pos :].strip() else "unexpected text")
        self.pos = match.end()
        return match.group(1)

    def parse(self) -> Rule:
        node = self.or_()
        if self.text[self.pos :].strip():
            raise self.error("unexpected text")
        return node

    def or_(self) -> Rule:
        node = self.and_()
        while self.word() == "OR":
            self.take()
            node = ("or", node, self.and_())
        return node

    def and_(self) -> Rule:
        node = self.not_()
        while self.word() == "AND":
            self.take()
            node = ("and", node, self.not_())
        return node

    def not_(self) -> Rule:
        if self.word() == "NOT":
            self.take()
            return ("not", self.not_())
        return self.atom()

    def atom(self) -> Rule:
        token = self.take()
        if token == "(":
            node = self.or_()
            if self.take() != ")":
                raise self.error("expected ')'")
            return node
        if token in ("TRUE", "FALSE"):
            return ("const", token == "TRUE")
        if token not in _FUNCS:
            raise self.error(
                f"unknown function {token!r} (allowed: ALARM, OK, INSUFFICIENT_DATA, TRUE, FALSE)"
            )
        if self.take() != "(":
            raise self.error(f"expected '(' after {token}")
        return ("state", token, self.reference())

    def reference(self) -> str:
        end = self.text.find(")", self.pos)
        if end < 0:
            raise self.error("missing ')'")
        raw = self.text[self.pos : end].strip()
        self.pos = end + 1
        if len(raw) >= 2 and raw[0] == raw[-1] == '"':
            raw = raw[1:-1]
        name = alarm_name(raw)
        if name not in self.known:
            raise EvaluatorError(f"composite rule {self.text!r} refers to unknown alarm {name!r}")
        return name


def alarm_name(reference: str) -> str:
    """The alarm name in an alarm ARN, or the reference itself when it is a name."""
    match = _ARN_NAME.match(reference)
    return match.group(1) if match else reference


def parse_rule(text: str, known: Iterable[str]) -> Rule:
    """Parse an AlarmRule; every referenced alarm must be one of `known` (names)."""
    if not isinstance(text, str) or not text.strip():
        raise EvaluatorError(f"composite rule must be a non-empty string, got {text!r}")
    return _RuleParser(text, set(known)).parse()


def evaluate_rule(rule: Rule, state_of: Callable[[str], str]) -> bool:
    """TRUE/FALSE of a parsed rule given each alarm's current state."""
    kind = rule[0]
    if kind == "const":
        return bool(rule[1])
    if kind == "state":
        return state_of(rule[2]) == rule[1]
    if kind == "not":
        return not evaluate_rule(rule[1], state_of)
    if kind == "and":
        return evaluate_rule(rule[1], state_of) and evaluate_rule(rule[2], state_of)
    return evaluate_rule(rule[1], state_of) or evaluate_rule(rule[2], state_of)


def referenced(rule: Rule) -> set[str]:
    """Names of the alarms a rule reads."""
    if rule[0] == "state":
        return {rule[2]}
    if rule[0] == "const":
        return set()
    return set().union(*(referenced(child) for child in rule[1:]))
