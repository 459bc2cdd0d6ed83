"""Runbook sections and the one helper that builds every runbook link.

The runbooks issue renders exactly these sections (id, title, anchor) into the runbook; alarms
and dashboards link to them through `runbook_link`. Deployed, the runbook is carried by SSM
documents, each at most 64 KB: the main one `BYOIP-<stage>-Runbook` and one per `part` of the
sections (`BYOIP-<stage>-Runbook-<part>`); with a runbook base URL it is one file.
"""

from __future__ import annotations

from dataclasses import dataclass

from contract import console
from contract.config import Config


@dataclass(frozen=True)
class RunbookSection:
    """One section of the triage runbook; `alarm_section` is False for procedure-only steps."""

    id: str
    title: str
    anchor: str
    alarm_section: bool = True
    part: str = ""  # "" the main runbook document, else the SSM document BYOIP-<stage>-Runbook-<part>


# The parts of the deployed runbook, in order: the main document, the SLO sections, the agents'
# connections (E and the black-box probe), every other part of the system watched
# (tests/unit/test_runbooks.py keeps each under 60 KB).
SLO, AGENTS, WATCHED = "SLO", "Agents", "Watched"
PARTS = ("", SLO, AGENTS, WATCHED)


SECTIONS: tuple[RunbookSection, ...] = (
    RunbookSection("preflight", "Pre-flight", "pre-flight", alarm_section=False),
    RunbookSection("A", "A. DLQ Not Empty", "a-dlq-not-empty"),
    RunbookSection("B", "B. Main Queue Backlog / Age High", "b-main-queue-backlog-age-high"),
    RunbookSection("C", "C. Partial-Fail % > 10%", "c-partial-fail-over-10"),
    RunbookSection("D", "D. Lambda Errors / Duration / Throttles", "d-lambda-errors-duration-throttles"),
    RunbookSection("E", "E. Stale Connections / 410 Spikes", "e-stale-connections-410-spikes", part=AGENTS),
    RunbookSection("S1", "S1. SLO: Job Success", "s1-slo-job-success", part=SLO),
    RunbookSection("S2", "S2. SLO: Time to Assign", "s2-slo-time-to-assign", part=SLO),
    RunbookSection("S3", "S3. SLO: Connect Success", "s3-slo-connect-success", part=SLO),
    RunbookSection("F", "F. Verification & Close", "f-verification-close", alarm_section=False),
    RunbookSection("G", "G. Quarantine Not Empty (poison pills)", "g-quarantine-not-empty"),
    RunbookSection(
        "M",
        "M. Pages, Tickets & Maintenance Windows",
        "m-pages-tickets-maintenance-windows",
        alarm_section=False,
    ),
    RunbookSection("W1", "W1. Functions and WebSocket API", "w1-functions-and-websocket-api", part=WATCHED),
    RunbookSection(
        "W2", "W2. Dead-man's switches, redrive and schedules", "w2-dead-mans-switches", part=WATCHED
    ),
    RunbookSection(
        "W3", "W3. Key rotation and alert delivery", "w3-key-rotation-and-alert-delivery", part=WATCHED
    ),
    RunbookSection("P", "P. Probe Failed (an agent's path is broken)", "p-probe-failed", part=AGENTS),
)
SECTIONS_BY_ID = {section.id: section for section in SECTIONS}


def runbook_link(config: Config, section: str | None, *, region: str) -> str:
    """Link to the stage's runbook (and `section` when given).

    With `config.runbook_base_url` the link is `<base>/<stage>/runbook.md#<anchor>`;
    without it the link opens the runbook SSM document the stack deploys, in `region`
    (the stack's region, possibly a CloudFormation token), so it is never a placeholder.
    The console page cannot scroll to a section, so callers name the section in text.
    """
    anchor = SECTIONS_BY_ID[section].anchor if section is not None else None
    part = SECTIONS_BY_ID[section].part if section is not None else ""
    if config.runbook_base_url:
        base = f"{config.runbook_base_url.rstrip('/')}/{config.names.runbook_path}"
        return f"{base}#{anchor}" if anchor else base
    return console.ssm_document(region, config.names.runbook_part(part))


def alarm_anchor(alarm_id: str) -> str:
    """The anchor of an alarm's own part of the runbook (runbooks/templates/macros.md.j2)."""
    return f"alarm-{alarm_id.lower()}"


def alarm_link(config: Config, alarm_id: str, section: str, *, region: str) -> str:
    """Link to an alarm's own part of the runbook with a base URL; else as `runbook_link(section)`."""
    if config.runbook_base_url:
        return f"{runbook_link(config, None, region=region)}#{alarm_anchor(alarm_id)}"
    return runbook_link(config, section, region=region)
