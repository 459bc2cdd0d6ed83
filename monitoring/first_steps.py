"""What on-call does first for each alarm, shown in the alarm's email and its runbook page.

The alarm description (monitoring/alarms.py: `describe`) and the runbook's alarm header
(runbooks/templates/macros.md.j2, through runbooks/context.py) both render these, so the
first steps are typed once. Plain text, no URL (the email's runbook link is the description's
only URL), `{stage}` is replaced by the stage. The runbook page has the full procedure.
"""

from __future__ import annotations

from contract.config import Config
from monitoring.catalog import ALARMS, COMPOSITE
from monitoring.sections import SECTIONS_BY_ID, alarm_link

# CloudWatch API Reference, MetricAlarm / PutMetricAlarm: AlarmDescription is 0-1024 characters.
DESCRIPTION_LIMIT = 1024

# Each alarm's first steps live in its catalog entry (monitoring/catalog.py, monitoring/watched.py).
FIRST_STEPS: dict[str, tuple[str, ...]] = {spec.id: spec.first_steps for spec in (*ALARMS, COMPOSITE)}


def first_steps(alarm_id: str, stage: str) -> tuple[str, ...]:
    """The alarm's first steps for `stage` (empty for an alarm without any)."""
    return tuple(step.format(stage=stage) for step in FIRST_STEPS.get(alarm_id, ()))


def description(alarm_id: str, meaning: str, section: str, config: Config, region: str) -> str:
    """Meaning, first steps, then the runbook link (the alarm's own section with a base URL)."""
    steps = first_steps(alarm_id, config.stage)
    title = SECTIONS_BY_ID[section].title
    lines = [meaning]
    if steps:
        lines.append("First steps: " + " ".join(f"{i}) {step}" for i, step in enumerate(steps, 1)))
    lines.append(f"Runbook {title}, alarm {alarm_id}: {alarm_link(config, alarm_id, section, region=region)}")
    return "\n".join(lines)
