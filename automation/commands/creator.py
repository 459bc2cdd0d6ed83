"""`byoip creator status|pause|resume`: one creator on one screen; pause it (or one kind of its jobs)
and resume it, releasing its held jobs."""

from __future__ import annotations

import getpass
import time
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.table import Table

from automation import clients
from automation.creator_status import CreatorStatus, creator_status, insight_links, usage_line
from automation.output import console, fail
from automation.queues import queue_url_by_name
from automation.scripts.creator_pause import (
    KIND_PAUSE_PREFIX,
    MAX_JOBS,
    MIN_JOBS,
    pause_creator,
    resume_creator,
)
from automation.stage import stage_config
from contract.names import JOBS, Names
from lambdas.common.protocol import ID_RULE, is_id

_clock = time.time  # tests pin it
app = typer.Typer(
    help="One creator: agents, limits, pause, breaker, held jobs, per-creator views; pause or resume it.",
    no_args_is_help=True,
)
Stage = Annotated[str, typer.Option("--stage", help="Stage (prod, staging, ...).")]
Region = Annotated[str | None, typer.Option("--region", help="AWS region (default: AWS_REGION).")]
KindOption = Annotated[
    str | None, typer.Option("--kind", help="Only this kind of the creator's jobs (the job message's kind).")
]


def _check_ids(labelled: dict[str, str | None]) -> None:
    """One error line for the first value (named by its flag or argument) that is not an id."""
    for label, value in labelled.items():
        if value is not None and not is_id(value):
            fail(f"{label} {value!r} is not an id ({ID_RULE})")


def _login() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name in the environment (a container)
        fail("cannot tell who you are: pass --operator NAME")


@app.command("pause")
def pause(
    creator_id: Annotated[str, typer.Argument(metavar="CREATOR", help="The creator to pause.")],
    stage: Stage,
    reason: Annotated[str, typer.Option("--reason", help="Why (kept on the item, shown by status).")],
    kind: KindOption = None,
    operator: Annotated[
        str | None, typer.Option("--operator", help="Who pauses (default: your login name).")
    ] = None,
    region: Region = None,
) -> None:
    """Hold the creator's new jobs (or only its jobs of --kind) until `byoip creator resume`."""
    who = operator if operator is not None else _login()
    _check_ids({"CREATOR": creator_id, "--kind": kind, "--operator": who})
    if not 1 <= len(reason.strip()) <= 200:
        fail("--reason must be 1-200 characters")
    names = stage_config(stage).names
    pause_creator(
        clients.client("dynamodb", clients.region_or_fail(region)),
        limits_table=names.table("creator-limits"),
        creator_id=creator_id,
        reason=reason.strip(),
        operator=who,
        kind=kind,
    )
    what = f"jobs of kind {kind} of creator {creator_id}" if kind else f"creator {creator_id}"
    console.print(
        f"paused {what} (by operator:{who}): the dispatcher holds them until "
        f"`byoip creator resume {creator_id} --stage {stage}{f' --kind {kind}' if kind else ''}`",
        markup=False,
    )


@app.command("resume")
def resume(
    creator_id: Annotated[str, typer.Argument(metavar="CREATOR", help="The creator to resume.")],
    stage: Stage,
    kind: KindOption = None,
    max_jobs: Annotated[
        int, typer.Option("--max-jobs", help=f"Most held jobs released now, {MIN_JOBS}-{MAX_JOBS}.")
    ] = 500,
    region: Region = None,
) -> None:
    """Lift the creator's pause (or only its --kind pause) and send its held jobs back to the queue."""
    _check_ids({"CREATOR": creator_id, "--kind": kind})
    if not MIN_JOBS <= max_jobs <= MAX_JOBS:
        fail(f"--max-jobs {max_jobs} is outside {MIN_JOBS}-{MAX_JOBS}")
    names = stage_config(stage).names
    chosen = clients.region_or_fail(region)
    sqs = clients.client("sqs", chosen)
    report = resume_creator(
        clients.client("dynamodb", chosen),
        sqs,
        limits_table=names.table("creator-limits"),
        jobs_table=names.table("jobs"),
        jobs_queue_url=queue_url_by_name(sqs, names.queue(JOBS), chosen),
        creator_id=creator_id,
        kind=kind,
        max_jobs=max_jobs,
    )
    what = f"jobs of kind {kind} of creator {creator_id}" if kind else f"creator {creator_id}"
    console.print(f"resumed {what}; released {report['released']} held job(s)", markup=False)
    if report["paused"]:
        console.print(
            f"creator {creator_id} itself is still paused: its jobs stay held until "
            f"`byoip creator resume {creator_id} --stage {stage}`",
            markup=False,
        )
    if report.get("pausedKinds"):
        console.print(f"still paused on their own: kinds {', '.join(report['pausedKinds'])}", markup=False)
    if report["released"] == max_jobs:
        console.print(f"released --max-jobs {max_jobs}: run it again for the rest", markup=False)


def _at(epoch: Any) -> str:
    if not epoch:
        return "-"
    return datetime.fromtimestamp(int(epoch), UTC).strftime("%Y-%m-%d %H:%M:%SZ")


@app.command("status")
def status(
    stage: Annotated[str, typer.Option("--stage", help="Stage (prod, staging, ...).")],
    creator_id: Annotated[str, typer.Option("--creator-id", help="The creator to show.")],
    region: Annotated[str | None, typer.Option("--region", help="AWS region (default: AWS_REGION).")] = None,
) -> None:
    """Agents online or offline since when, limits and usage, who paused, breaker state, held jobs,
    and links to the per-creator views (Contributor Insights, this creator's log lines)."""
    _check_ids({"--creator-id": creator_id})
    names = stage_config(stage).names
    now = int(_clock())
    region = clients.region_or_fail(region)
    found = creator_status(clients.client("dynamodb", region), names, creator_id, now=now)
    show(found, stage, now)
    show_views(names, creator_id, region)


def show(found: CreatorStatus, stage: str, now: int) -> None:
    """Print the one screen."""
    limits = found.limits
    console.print(f"creator {found.creator_id} (stage {stage})", markup=False)
    if limits.get("paused"):
        console.print(
            f"paused: yes, by {limits.get('pausedBy', '?')} since {_at(limits.get('pausedAt'))}"
            f" ({limits.get('pauseReason', 'no reason')})",
            markup=False,
        )
    else:
        console.print("paused: no", markup=False)
    for key in sorted(k for k in limits if k.startswith(KIND_PAUSE_PREFIX)):
        kind_pause = limits[key] if isinstance(limits[key], dict) else {}
        console.print(
            f"paused kind {key.removeprefix(KIND_PAUSE_PREFIX)}: by {kind_pause.get('by', '?')} since "
            f"{_at(kind_pause.get('at'))} ({kind_pause.get('reason', 'no reason')})",
            markup=False,
        )
    state = limits.get("breakerState") or "closed"
    since = f" since {_at(limits.get('breakerOpenedAt'))}" if state != "closed" else ""
    probe = f", probe {limits['breakerProbeJob']}" if limits.get("breakerProbeJob") else ""
    console.print(
        f"circuit breaker: {state}{since}{probe}; recent deliveries: {found.failures} failed"
        f" of {found.deliveries}",
        markup=False,
    )
    console.print(f"limits: {usage_line(limits, now)}", markup=False)
    table = Table("agent", "connection", "last seen", "held jobs", "creator notified")
    for agent in found.agents:
        online = "online" if agent.get("connectionId") else f"offline since {_at(agent.get('lastSeen'))}"
        notified = f"offline at {_at(agent['offlineNotifiedAt'])}" if agent.get("offlineNotifiedAt") else "-"
        held = str(found.held_by_agent.get(agent.get("agentId", ""), 0))
        table.add_row(agent.get("agentId", "?"), online, _at(agent.get("lastSeen")), held, notified)
    console.print(table)
    reasons = ", ".join(f"{reason} {n}" for reason, n in sorted(found.held_by_reason.items())) or "none"
    console.print(f"held jobs: {found.held} ({reasons})", markup=False)


def show_views(names: Names, creator_id: str, region: str) -> None:
    """The per-creator views: each Contributor Insights rule, and this creator's lines it counts."""
    page, views = insight_links(names, creator_id, region)
    console.print(f"top creators (Contributor Insights): {page}", markup=False)
    for view in views:
        console.print(
            f"  by {view.what}: rule {view.rule_name}; this creator's lines: {view.creator_logs}",
            markup=False,
        )
