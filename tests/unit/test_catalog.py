"""The alarm catalog, runbook sections and runbook links as plain data (no CDK)."""

from __future__ import annotations

import pytest

from contract import sizes
from contract.config import Config
from contract.names import Names
from monitoring.catalog import (
    ALARMS,
    ALARMS_BY_ID,
    COMPOSITE,
    AllOf,
    AnyOf,
    Comparison,
    Math,
    notifies,
    render_rule,
    rule_ids,
)
from monitoring.queries import QUERIES
from monitoring.sections import SECTIONS, SECTIONS_BY_ID, runbook_link
from monitoring.slo_catalog import SLO_ALARMS, SLO_COMPOSITES

CONTRACT_IDS = [
    "DLQNotEmpty",
    "Backlog",
    "DispatcherErrors",
    "DispatcherThrottles",
    "DispatcherDuration",
    "PartialFailPct",
    "HeartbeatDip",
    "StaleConnections",
    "CircuitBreakerOpen",
    "FleetDisconnected",
    "ProbeFailed",
    "QuarantineNotEmpty",
]
# Every part watched (issue 20, monitoring/watched.py): the shared names of the helpers.
WATCHED_IDS = [
    "WsConnectErrors",
    "WsConnectThrottles",
    "WsMessageErrors",
    "WsMessageThrottles",
    "WsDisconnectErrors",
    "WsDisconnectThrottles",
    "LeaseReaperErrors",
    "LeaseReaperThrottles",
    "SecretRotationErrors",
    "ApiIntegrationErrors",
    "ApiExecutionErrors",
    "EdgeThrottled",
    "ReaperSilent",
    "WatchSilent",
    "RedriveFailed",
    "ScheduleFailedInvocations",
    "RotationFailed",
    "AlertDeliveryFailed",
]
# Paging in composite mode too: no composite covers them (docs/architecture.md, every part watched).
PAGE_IN_COMPOSITE = [
    "FleetDisconnected",  # a fleet-wide disconnect is an outage by itself
    "ProbeFailed",  # the black-box probe sees outages no other alarm does
    *["EdgeThrottled", "ReaperSilent", "WatchSilent", "RedriveFailed", "RotationFailed"],
]


def test_catalog_ids_are_the_contract_ids() -> None:
    assert [spec.id for spec in ALARMS] == [*CONTRACT_IDS, *WATCHED_IDS]
    assert COMPOSITE.id == "Incident"


def test_composite_rule_is_dlq_or_errors_and_backlog() -> None:
    assert COMPOSITE.rule == AnyOf(("DLQNotEmpty", AllOf(("DispatcherErrors", "Backlog"))))
    assert (
        render_rule(COMPOSITE.rule)
        == '(ALARM("DLQNotEmpty") OR (ALARM("DispatcherErrors") AND ALARM("Backlog")))'
    )
    assert render_rule(COMPOSITE.rule, lambda i: Names("qa").alarm(i)).startswith(
        '(ALARM("BYOIP-qa-DLQNotEmpty") OR'
    )
    assert set(rule_ids(COMPOSITE.rule)) <= set(ALARMS_BY_ID)


def test_sections_match_the_contract_mapping() -> None:
    by_section = {s.id: sorted(a.id for a in ALARMS if a.section == s.id) for s in SECTIONS}
    assert (
        by_section
        == {
            "preflight": [],
            "A": ["DLQNotEmpty"],
            "B": ["Backlog"],
            "C": ["PartialFailPct"],
            "D": ["DispatcherDuration", "DispatcherErrors", "DispatcherThrottles"],
            "E": ["CircuitBreakerOpen", "FleetDisconnected", "HeartbeatDip", "StaleConnections"],
            "S1": [],  # the SLO sections hold the SLO catalog's alarms (tests/unit/test_slo_catalog.py)
            "S2": [],
            "S3": [],
            "F": [],
            "G": ["QuarantineNotEmpty"],
            "W1": sorted(WATCHED_IDS[:12]),
            "W2": ["ReaperSilent", "RedriveFailed", "ScheduleFailedInvocations", "WatchSilent"],
            "W3": ["AlertDeliveryFailed", "RotationFailed"],
            "P": ["ProbeFailed"],
            "M": [],  # pages, tickets and the maintenance window (monitoring/routing.py)
        }
    )
    assert COMPOSITE.section == "preflight"


def test_every_alarm_section_has_an_alarm_and_every_alarm_a_section() -> None:
    linked = {spec.section for spec in (*ALARMS, COMPOSITE, *SLO_ALARMS, *SLO_COMPOSITES)}
    assert linked <= set(SECTIONS_BY_ID)
    assert {s.id for s in SECTIONS if s.alarm_section} <= linked
    assert len({s.anchor for s in SECTIONS}) == len(SECTIONS)


@pytest.mark.parametrize(
    ("mode", "expected"),
    [("composite", [*PAGE_IN_COMPOSITE, "Incident"]), ("all", [*CONTRACT_IDS, *WATCHED_IDS, "Incident"])],
)
def test_notifying_alarms_per_mode(mode, expected) -> None:
    assert [spec.id for spec in (*ALARMS, COMPOSITE) if notifies(spec, mode)] == expected


def test_only_dlq_and_incident_have_ok_actions_and_dlq_starts_guarded_redrive() -> None:
    assert [spec.id for spec in (*ALARMS, COMPOSITE) if spec.ok_action] == ["DLQNotEmpty", "Incident"]
    assert {spec.id: spec.automation for spec in ALARMS if spec.automation} == {
        "DLQNotEmpty": "GuardedRedrive"
    }


def test_thresholds_keep_their_justifications() -> None:
    backlog = ALARMS_BY_ID["Backlog"]
    assert backlog.threshold > 2 * sizes.JOBS_VISIBILITY_S + sizes.BATCHING_WINDOW_S
    assert ALARMS_BY_ID["DispatcherDuration"].threshold == 0.8 * sizes.DISPATCHER_TIMEOUT_S * 1000
    assert ALARMS_BY_ID["DispatcherDuration"].source.statistic == "p95"
    partial = ALARMS_BY_ID["PartialFailPct"]
    assert isinstance(partial.source, Math)
    assert "MAX(" not in partial.source.expression  # MAX(1, x) is not valid metric math
    assert (partial.threshold, partial.datapoints_to_alarm, partial.evaluation_periods) == (10, 2, 3)
    assert ALARMS_BY_ID["HeartbeatDip"].comparison is Comparison.LT


def test_runbook_link_uses_base_url_stage_and_anchor() -> None:
    config = Config(stage="staging", runbook_base_url="https://runbooks.example.com/byoip/")
    assert runbook_link(config, "B", region="eu-west-1") == (
        "https://runbooks.example.com/byoip/staging/runbook.md#b-main-queue-backlog-age-high"
    )
    assert (
        runbook_link(config, None, region="eu-west-1")
        == "https://runbooks.example.com/byoip/staging/runbook.md"
    )


def test_runbook_link_without_base_url_opens_the_deployed_ssm_document() -> None:
    config = Config(stage="prod")
    assert config.names.runbook_document == "BYOIP-prod-Runbook"
    assert runbook_link(config, "A", region="us-east-1") == (
        "https://us-east-1.console.aws.amazon.com/systems-manager/documents/"
        "BYOIP-prod-Runbook/description?region=us-east-1"
    )


def test_runbook_link_rejects_an_unknown_section() -> None:
    with pytest.raises(KeyError):
        runbook_link(Config(), "Z", region="us-east-1")


def test_saved_query_names_are_per_stage() -> None:
    assert [Config(stage="qa").names.query(q.slug) for q in QUERIES] == [
        "BYOIP-qa/error-types-by-reason",
        "BYOIP-qa/stale-connections-410",
        "BYOIP-qa/partial-batch-failures-by-reason",
    ]
