"""The per-creator views count lines the functions really log.

Each Contributor Insights rule (monitoring/insights.py) is matched, with the rule syntax's own
semantics, against the JSON lines the handler of the rule's function prints when the event
happens: the line must carry the rule's key (`creatorId`) and pass its filters, and no other
rule may count it.
"""

from __future__ import annotations

import importlib
import time
from typing import Any

import pytest

from contract import names as n
from lambdas.common import connections
from lambdas.common.reserved import PROBE_CREATOR
from monitoring.insights import RULES, InsightRule, matches
from tests.lambdas import helpers as h

RULE = {rule.id: rule for rule in RULES}


def run(function: str, event: dict[str, Any]) -> Any:
    """Invoke the handler of `function` (lambdas/<function with _>/handler.py): the rule's log group."""
    return importlib.import_module(f"lambdas.{function.replace('-', '_')}.handler").handler(event, None)


def counted(rule: InsightRule, lines: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(creator, message) of each line the rule counts."""
    return [(creator, line["message"]) for line in lines if (creator := matches(rule, line)) is not None]


def only_counted_by(rule: InsightRule, lines: list[dict[str, Any]]) -> None:
    for other in RULES:
        if other is not rule:
            assert counted(other, lines) == [], other.id


def test_every_rule_reads_a_function_and_names_its_physical_rule():
    assert [rule.id for rule in RULES] == list(n.INSIGHT_RULES)
    for rule in RULES:
        assert rule.function in n.FUNCTIONS
        assert n.Names("prod").insight_rule(rule.id) == f"BYOIP-prod-TopCreators-{rule.id}"
    with pytest.raises(ValueError, match="unknown insight rule"):
        n.Names("prod").insight_rule("Nope")


def test_failed_results_counts_each_failed_result_per_creator(online, clock, out):
    rule = RULE[n.FAILED_RESULTS]
    for job_id in ("job-1", "job-2", "job-3"):
        run(n.DISPATCHER, h.sqs_event(h.job_body(job_id)))
    out.logs()
    frames = [
        {
            "action": "job.result",
            "jobId": "job-1",
            "status": "failed",
            "reason": "timeout",
            "retryable": True,
        },
        {"action": "job.result", "jobId": "job-2", "status": "failed"},
        {"action": "job.result", "jobId": "job-3", "status": "completed"},
    ]
    for frame in frames:
        assert run(rule.function, h.message_event(frame, online)) == {"statusCode": 200}
    lines = out.logs()
    assert counted(rule, lines) == [
        ("creator-1", "job_result_failed jobId=job-1 requeued=true reason=timeout"),
        ("creator-1", "job_result_failed jobId=job-2 requeued=false reason=agent_failed"),
    ]
    only_counted_by(rule, lines)


def test_held_jobs_counts_each_held_job_per_creator(queues, clock, out):
    rule = RULE[n.HELD_JOBS]
    run(
        rule.function,
        h.sqs_event(h.job_body("job-1", "agent-9"), h.job_body("job-2", "agent-9", "creator-2")),
    )
    lines = out.logs()
    assert counted(rule, lines) == [
        ("creator-1", "job_held jobId=job-1 reason=agent_offline status=404"),
        ("creator-2", "job_held jobId=job-2 reason=agent_offline status=404"),
    ]
    only_counted_by(rule, lines)


def test_rate_limited_frames_counts_each_refused_frame_per_creator(online, clock, out, monkeypatch):
    rule = RULE[n.RATE_LIMITED_FRAMES]
    monkeypatch.setenv("FRAMES_PER_MINUTE", "1")
    clock.set(clock.value - clock.value % 60)
    for _ in range(3):
        run(rule.function, h.message_event({"action": "heartbeat"}, online))
    lines = out.logs()
    assert counted(rule, lines) == [("creator-1", "ws_message_rejected code=rate_limited")] * 2
    only_counted_by(rule, lines)


def test_rejected_connects_counts_revoked_tokens_per_creator_not_unverified_ones(online, clock, out):
    rule = RULE[n.REJECTED_CONNECTS]
    now = int(time.time())
    assert connections.revoke_agent_tokens("creator-1", "agent-1", now)
    old = h.token("agent-1", "creator-1", iat=now - 5)
    assert run(rule.function, h.connect_event(old, "conn-2")) == {"statusCode": 401}
    # A token that does not verify names no creator anyone can trust: logged, counted by nobody.
    forged = h.token("agent-1", "creator-1", key="another-key-of-at-least-32-bytes!!")
    assert run(rule.function, h.connect_event(forged, "conn-3")) == {"statusCode": 401}
    lines = out.logs()
    assert "ws_connect_rejected reason=token_invalid" in [line["message"] for line in lines]
    assert counted(rule, lines) == [("creator-1", "ws_connect_rejected reason=token_revoked")]
    only_counted_by(rule, lines)


def test_the_probe_and_lines_without_a_creator_count_for_nobody():
    for rule in RULES:
        line = {"message": rule.prefix + " x", "creatorId": "c-1"}
        assert matches(rule, line) == "c-1"
        assert matches(rule, {**line, "creatorId": PROBE_CREATOR}) is None
        assert matches(rule, {"message": line["message"]}) is None
        assert matches(rule, {**line, "message": "x " + rule.prefix}) is None
