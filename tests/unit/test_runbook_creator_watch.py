"""Runbook E: the circuit breaker and the creator notification, with the stage's real names."""

from __future__ import annotations

from contract.config import Config
from runbooks.render import render_runbook


def _section_e(config: Config) -> str:
    markdown = render_runbook(config, region="eu-west-1", account="123456789012")
    start = markdown.index('<a id="e-stale-connections-410-spikes"></a>')
    return markdown[start : markdown.index('<a id="alarm-', start)]


def test_section_e_names_the_stages_parts_and_how_to_close_a_breaker_by_hand():
    text = _section_e(Config(stage="staging", notify_offline_seconds=900))
    for fact in (
        "`byoip-staging-lease-reaper`",
        "`Creator Agent Offline` (source `huntaze.byoip`, default bus)",
        "offline over 15 min with held jobs",
        "`Creator Agent Back Online`",
        "5+ of its last 20 deliveries within 10 min failed",
        "at least 50 %",
        "`byoip-staging-creator-limits` (`pausedBy = circuit-breaker`, `breakerState = open`)",
        "After 5 min one held job is the probe",
        "`byoip creator status --stage staging --creator-id <creatorId> --region eu-west-1`",
        "Close it by hand: `byoip creator resume <creatorId> --stage staging --region eu-west-1`"
        " (or `BYOIP-staging-ResumeCreator`)",
        "It never lifts a pause an operator or agent set",
    ):
        assert fact in text, fact
    assert "byoip-prod" not in text


def test_the_breaker_alarm_has_its_page_in_section_e():
    markdown = render_runbook(Config(stage="prod"), region="eu-west-1", account="123456789012")
    page = markdown[markdown.index('<a id="alarm-circuitbreakeropen"></a>') :]
    assert "### Alarm `BYOIP-prod-CircuitBreakerOpen` (warning)" in page
    assert "`byoip creator status --stage prod --creator-id <creatorId> --region eu-west-1`" in page
