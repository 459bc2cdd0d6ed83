"""Per-creator views: the Contributor Insights rules, as data (no CDK).

One list drives the rules (monitoring/insight_rules.py builds AWS::CloudWatch::InsightRule), the
primary dashboard's widgets, `byoip creator status`'s console links and the tests. Each rule
counts one kind of structured (Powertools JSON) log line of one function by its `creatorId`:
the lines are the ones docs/contracts.md "Log lines" lists, and each carries `creatorId`.
Rule bodies follow the documented Contributor Insights rule syntax (`CloudWatchLogRule`,
version 1; at most 4 filters, an `In`/`NotIn`/`StartsWith` list at most 10 strings).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from contract import names as n
from lambdas.common.reserved import PROBE_CREATOR

KEY = "creatorId"  # the one key every rule counts by (a JSON field of every line below)
TOP_CONTRIBUTORS = 10  # the widgets' maxContributorCount


@dataclass(frozen=True)
class InsightRule:
    """Top creators by `what`: lines of `function` whose `message` starts with `prefix`."""

    id: str  # contract.names.INSIGHT_RULES; the physical name is Names.insight_rule(id)
    what: str  # "failed results": the widget reads "Top creators by failed results"
    function: str  # contract.names function short name: the log group is /aws/lambda/byoip-<s>-<function>
    prefix: str  # the log line's `message` starts with this (the documented event and its reason)

    @property
    def title(self) -> str:
        return f"Top creators by {self.what}"

    def filters(self) -> list[dict[str, Any]]:
        """The line's event, a creator named, and never the black-box probe's (no creator's work)."""
        return [
            {"Match": "$.message", "StartsWith": [self.prefix]},
            {"Match": f"$.{KEY}", "IsPresent": True},
            {"Match": f"$.{KEY}", "NotIn": [PROBE_CREATOR]},
        ]

    def body(self, names: n.Names) -> dict[str, Any]:
        """The rule body (Contributor Insights rule syntax for JSON logs), counting lines per creator."""
        return {
            "Schema": {"Name": "CloudWatchLogRule", "Version": 1},
            "LogGroupNames": [names.function_log_group(self.function)],
            "LogFormat": "JSON",
            "Contribution": {"Keys": [f"$.{KEY}"], "Filters": self.filters()},
            "AggregateOn": "Count",
        }

    def body_json(self, names: n.Names) -> str:
        return json.dumps(self.body(names), separators=(",", ":"))

    def creator_query(self, creator_id: str) -> str:
        """Logs Insights: the one creator's lines the rule counts (a rule's graph has no key filter)."""
        quoted = creator_id.replace("\\", "\\\\").replace('"', '\\"')
        return (
            "fields @timestamp, @message\n"
            f'| filter {KEY} = "{quoted}" and message like /^{_regex(self.prefix.rstrip())}/\n'
            "| sort @timestamp desc\n| limit 100"
        )


RULES: tuple[InsightRule, ...] = (
    InsightRule(n.FAILED_RESULTS, "failed results", n.WS_MESSAGE, "job_result_failed "),
    InsightRule(n.HELD_JOBS, "held jobs", n.DISPATCHER, "job_held "),
    InsightRule(
        n.RATE_LIMITED_FRAMES, "rate-limited frames", n.WS_MESSAGE, "ws_message_rejected code=rate_limited"
    ),
    InsightRule(n.REJECTED_CONNECTS, "rejected connects", n.WS_CONNECT, "ws_connect_rejected "),
)


def _field(line: dict[str, Any], path: str) -> tuple[bool, Any]:
    """`$.a.b` of a JSON log line: (present, value)."""
    value: Any = line
    for part in path.removeprefix("$.").split("."):
        if not isinstance(value, dict) or part not in value:
            return False, None
        value = value[part]
    return True, value


def matches(rule: InsightRule, line: dict[str, Any]) -> str | None:
    """The contributor (creator id) a JSON log line adds to `rule`, None if the rule skips it.

    The operators the rules use, as the rule syntax defines them (AND of the filters, OR within a
    list, case-sensitive); a line without the key contributes nothing.
    """
    for flt in rule.filters():
        present, value = _field(line, flt["Match"])
        if "IsPresent" in flt:
            ok = present == flt["IsPresent"]
        elif "StartsWith" in flt:
            ok = present and isinstance(value, str) and value.startswith(tuple(flt["StartsWith"]))
        elif "In" in flt:
            ok = present and value in flt["In"]
        elif "NotIn" in flt:
            ok = not present or value not in flt["NotIn"]
        else:
            raise ValueError(f"operator of {flt} not supported here")
        if not ok:
            return None
    present, key = _field(line, f"$.{KEY}")
    return str(key) if present else None


def _regex(text: str) -> str:
    """`text` as a literal in a Logs Insights regex."""
    return re.sub(r"([.^$*+?()\[\]{}|\\/])", r"\\\1", text)
