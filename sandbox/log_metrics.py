"""What CloudWatch Logs does with a function's output: EMF lines become metrics, and metric
filters (AWS::Logs::MetricFilter of the template) count matching lines.

Filter patterns supported: the space-separated term syntax for unstructured logs (every
term must occur; a quoted term is matched as a whole phrase) — which is what our
`"status=410"` filter uses. JSON (`{ $.x = … }`) and space-delimited (`[a, b]`) patterns are
refused with a clear error instead of silently matching nothing.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from sandbox.metrics import MetricStore
from sandbox.template import Resolver, TemplateError


@dataclass(frozen=True)
class MetricFilter:
    log_group: str
    terms: tuple[str, ...]
    namespace: str
    name: str
    value: float

    def matches(self, line: str) -> bool:
        return all(term in line for term in self.terms)


def parse_pattern(pattern: str) -> tuple[str, ...]:
    """Terms of an unstructured-log filter pattern."""
    text = pattern.strip()
    if text.startswith("{") or text.startswith("["):
        raise TemplateError(f"metric filter pattern {pattern!r}: only term patterns run in the sandbox")
    return tuple(shlex.split(text))


def read_filters(resolver: Resolver) -> list[MetricFilter]:
    """Every metric filter of the template with a constant metric value."""
    filters = []
    for _, props in resolver.of_type("AWS::Logs::MetricFilter"):
        terms = parse_pattern(props.get("FilterPattern", ""))
        for transform in props.get("MetricTransformations", []):
            filters.append(
                MetricFilter(
                    log_group=str(resolver.resolve(props["LogGroupName"])),
                    terms=terms,
                    namespace=transform["MetricNamespace"],
                    name=transform["MetricName"],
                    value=float(transform.get("MetricValue", "1")),
                )
            )
    return filters


class LogMetrics:
    """Subscriber of LogGroups: EMF → metrics, metric filters → metrics."""

    def __init__(self, metrics: MetricStore, filters: list[MetricFilter]) -> None:
        self.metrics = metrics
        self.filters = filters

    def __call__(self, group: str, line: str) -> None:
        if line.startswith("{") and '"_aws"' in line and self.metrics.put_emf(line):
            return
        for f in self.filters:
            if f.log_group == group and f.matches(line):
                self.metrics.put(f.namespace, f.name, f.value)
