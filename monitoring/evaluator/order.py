"""Evaluation order: a metric-math alarm's expressions, and composites after the composites they read."""

from __future__ import annotations

from typing import Any

from monitoring.evaluator.mathparse import parse, references
from monitoring.evaluator.model import CompositeAlarm, EvaluatorError, MetricAlarm
from monitoring.evaluator.rules import referenced


def expression_plan(alarm: MetricAlarm) -> list[tuple[str, Any]] | None:
    """Expressions in dependency order; None for a single-metric alarm."""
    if len(alarm.queries) == 1 and alarm.queries[0].metric is not None:
        return None
    nodes = {q.id: parse(q.expression) for q in alarm.queries if q.expression}
    order: list[str] = []
    visiting: set[str] = set()

    def visit(qid: str) -> None:
        if qid in order or qid not in nodes:
            return
        if qid in visiting:
            raise EvaluatorError(f"alarm {alarm.name}: expression {qid} depends on itself")
        visiting.add(qid)
        for dep in references(nodes[qid]):
            visit(dep)
        visiting.discard(qid)
        order.append(qid)

    for qid in nodes:
        visit(qid)
    return [(qid, nodes[qid]) for qid in order]


def composite_order(composites: dict[str, CompositeAlarm]) -> list[str]:
    order: list[str] = []
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in order:
            return
        if name in visiting:
            raise EvaluatorError(f"composite alarm {name} depends on itself")
        visiting.add(name)
        for dep in referenced(composites[name].rule):
            if dep in composites:
                visit(dep)
        visiting.discard(name)
        order.append(name)

    for name in composites:
        visit(name)
    return order
