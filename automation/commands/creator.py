"""`byoip creator status`: one creator on one screen (agents, limits, pause, breaker, held jobs)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.table import Table

from automation import clients
from automation.creator_status import CreatorStatus, creator_status, insight_links, usage_line
from automation.output import console, fail
from automation.stage import stage_config
from contract.names import Names
from lambdas.common.protocol import ID_RULE, is_id

_clock = time.time  # tests pin it
app = typer.Typer(
    help="One creator: agents, limits, pause, circuit breaker, held jobs, per-creator views.",
    no_args_is_help=True,
)


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
    if not is_id(creator_id):
        fail(f"--creator-id {creator_id!r} is not an id ({ID_RULE})")
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
