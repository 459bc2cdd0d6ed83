"""Everything a runbook template may name for one stage, derived from config and the catalogs.

Physical names come from contract.names, alarms and sections from the monitoring catalogs, so
nothing here is typed a second time. No CDK is loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from contract import console as links
from contract.config import ALERT_MODES, Config
from contract.names import AUTOMATIONS, DISPATCHER, DLQ, FUNCTIONS, JOBS, QUARANTINE
from monitoring.catalog import ALARMS, COMPOSITE, AlarmSpec, CompositeSpec, notifies
from monitoring.failure_modes import FAILURE_MODES, PAGE_WITHIN_MIN
from monitoring.first_steps import first_steps
from monitoring.queries import QUERIES
from monitoring.routing import MAINTENANCE, SUPPRESSOR_EXTENSION_S, SUPPRESSOR_WAIT_S, route
from monitoring.sections import PARTS, SECTIONS, SECTIONS_BY_ID, runbook_link
from monitoring.slo_catalog import ALERTS, SLO_ALARMS, SLO_COMPOSITES, SLOS
from monitoring.spec import condition_text
from monitoring.watched import FUNCTION_ALARMS


@dataclass(frozen=True)
class Queue:
    name: str
    arn: str
    url: str
    console: str


@dataclass(frozen=True)
class Automation:
    name: str
    console: str
    execute: str


@dataclass(frozen=True)
class AlarmView:
    """One alarm as the runbook shows it."""

    id: str
    name: str
    meaning: str
    condition: str  # derived from the catalog entry, never retyped in a template
    severity: str
    section: str
    emails: dict[str, bool]  # ALERT_MODE -> whether this alarm emails its topic in it
    route: str  # page | ticket (monitoring/routing.py, from the severity)
    console: str
    automation: Automation | None
    first_steps: tuple[str, ...]  # monitoring/first_steps.py: also in the alarm's email
    template: str  # the page under runbooks/templates/ that follows the alarm's header


def _queue(config: Config, suffix: str, region: str, account: str) -> Queue:
    name = config.names.queue(suffix)
    return Queue(
        name=name,
        arn=f"arn:aws:sqs:{region}:{account}:{name}",
        url=f"https://sqs.{region}.amazonaws.com/{account}/{name}",
        console=links.queue(region, account, name),
    )


def _automation(config: Config, region: str, automation: str) -> Automation:
    name = config.names.document(automation)
    return Automation(
        name=name, console=links.ssm_document(region, name), execute=links.ssm_execute(region, name)
    )


def _alarm(spec: AlarmSpec | CompositeSpec, config: Config, region: str, template: str = "") -> AlarmView:
    name = config.names.alarm(spec.id)
    automation = getattr(spec, "automation", None)
    return AlarmView(
        id=spec.id,
        name=name,
        meaning=spec.meaning,
        condition=condition_text(spec),
        severity=str(spec.severity),
        section=spec.section,
        emails={mode: notifies(spec, mode) for mode in ALERT_MODES},
        route=str(route(spec)),
        console=links.alarm(region, name),
        automation=_automation(config, region, automation) if automation else None,
        first_steps=first_steps(spec.id, config.stage),
        template=template or f"alarms/{spec.id}.md.j2",
    )


from lambdas.common.breaker import BreakerPolicy  # noqa: E402
from lambdas.common.notify import SOURCE as CREATOR_EVENTS_SOURCE  # noqa: E402


def build_context(config: Config, *, region: str, account: str, part: str | None = None) -> dict[str, Any]:
    """Template variables for one stage in one region/account; `part` renders one SSM document's
    part of the runbook (monitoring/sections.py PARTS), None the whole runbook."""
    dispatcher_log_group = config.names.function_log_group(DISPATCHER)
    specs: tuple[AlarmSpec | CompositeSpec, ...] = (*ALARMS, COMPOSITE)
    # The generated function alarms share one page (monitoring/watched.py, one generator).
    alarms = [
        _alarm(spec, config, region, "watched/function.md.j2" if spec.id in FUNCTION_ALARMS else "")
        for spec in specs
    ]
    # SLO alerts share one page each kind: they differ only in data the header already shows.
    alarms += [_alarm(spec, config, region, "slo/composite.md.j2") for spec in SLO_COMPOSITES]
    alarms += [_alarm(spec, config, region, "slo/window.md.j2") for spec in SLO_ALARMS]
    by_id = {a.id: a for a in alarms}
    primary = config.names.primary_dashboard
    deprecated = config.names.deprecated_dashboard
    return {
        "config": config,
        "stage": config.stage,
        "region": region,
        "account": account,
        "jobs_queue": _queue(config, JOBS, region, account),
        "dlq": _queue(config, DLQ, region, account),
        "quarantine": _queue(config, QUARANTINE, region, account),
        "watched_functions": {
            alarm_id: fn.dim.value.partition(":")[2] for alarm_id, fn in FUNCTION_ALARMS.items()
        },
        "functions": {
            short: {
                "name": config.names.function(short),
                "console": links.lambda_function(region, config.names.function(short)),
            }
            for short in FUNCTIONS
        },
        "dispatcher_log_group": {
            "name": dispatcher_log_group,
            "console": links.log_group(region, dispatcher_log_group),
        },
        "dashboards": {
            "primary": {"name": primary, "console": links.dashboard(region, primary)},
            "deprecated": {"name": deprecated, "console": links.dashboard(region, deprecated)},
        },
        "queries": [
            {
                "slug": query.slug,
                "title": query.title,
                "name": config.names.query(query.slug),
                "query": query.query,
                "console": links.logs_insights(region, dispatcher_log_group, query.query),
            }
            for query in QUERIES
        ],
        "sections": SECTIONS,
        "part": part,
        "part_links": {p: links.ssm_document(region, config.names.runbook_part(p)) for p in PARTS},
        "sections_by_id": SECTIONS_BY_ID,
        # Runbook E: the creator watch's settings (lambdas/common/breaker.py, notify.py).
        "breaker": BreakerPolicy(),
        "creator_events_source": CREATOR_EVENTS_SOURCE,
        "alarms": alarms,
        "slos_by_section": {slo.section: slo for slo in SLOS},
        "slo_alerts": ALERTS,
        "maintenance": {
            "name": config.names.alarm(MAINTENANCE.id),
            "wait_s": SUPPRESSOR_WAIT_S,
            "extension_s": SUPPRESSOR_EXTENSION_S,
        },
        "alarms_by_id": {a.id: a for a in alarms},
        # "What breaks and how you would know": each mode with its paging alarms' views; the first
        # one's section is the mode's (monitoring/failure_modes.py).
        "page_within_min": PAGE_WITHIN_MIN,
        "failure_modes": [
            {"mode": mode, "pages": [by_id[i] for i in mode.pages], "section": by_id[mode.pages[0]].section}
            for mode in FAILURE_MODES
        ],
        "alarms_by_section": {s.id: [a for a in alarms if a.section == s.id] for s in SECTIONS},
        "automations": {name: _automation(config, region, name) for name in AUTOMATIONS},
        "runbook": {
            "name": config.names.runbook_document,
            "console": runbook_link(config, None, region=region),
        },
    }
