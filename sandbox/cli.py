"""`byoip sandbox …` and `byoip gameday`: the local sandbox."""

from __future__ import annotations

import signal
import threading
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

app = typer.Typer(help="Local sandbox: the whole system on one machine.", no_args_is_help=True)
console = Console()
err = Console(stderr=True)


class AlertMode(StrEnum):
    composite = "composite"
    all = "all"


def _check_speed(speed: float) -> float:
    if not 1 <= speed <= 600:
        err.print(f"invalid --speed {speed:g}: allowed 1-600 (production seconds per real second)")
        raise typer.Exit(2)
    return speed


Speed = Annotated[float, typer.Option(help="Production seconds per real second (1-600).")]
Mode = Annotated[AlertMode, typer.Option(help="ALERT_MODE of the synthesized stack.")]


@app.command("up")
def up(
    speed: Speed = 60.0,
    alert_mode: Mode = AlertMode.composite,
    agents: Annotated[int, typer.Option(min=0, max=50, help="Reference agents to run in it.")] = 0,
) -> None:
    """Start the sandbox and keep it running; prints the WebSocket URL and an agent token. Ctrl-C stops."""
    from sandbox.agent import AgentBehaviour
    from sandbox.fleet import Fleet
    from sandbox.system import Sandbox, SandboxOptions
    from sandbox.tokens import mint_token

    speed = _check_speed(speed)
    console.print("[dim]synthesizing stage local and starting the sandbox…[/]")
    box = Sandbox(SandboxOptions(speed=speed, alert_mode=alert_mode.value)).start()
    fleet = None
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        secret = box.jwt_secret()
        if agents:
            fleet = Fleet(box.gateway.url, lambda a, c: mint_token(secret, a, c))
            for i in range(agents):
                fleet.add(
                    f"agent-{i + 1}", "creator-1", AgentBehaviour(heartbeat_seconds=box.clock.real(120))
                )
        token = mint_token(secret, "my-agent", "creator-1", lifetime_s=900)
        rows = [
            ("WebSocket URL", box.gateway.url),
            ("agent token", f"{token}  (agentId my-agent, creatorId creator-1, 15 min)"),
            ("connect", f"python -m sandbox.agent {box.gateway.url} --token {token}"),
            ("@connections", box.connections.endpoint),
            ("AWS (moto)", f"AWS_ENDPOINT_URL={box.moto.endpoint}"),
            ("jobs queue", box.queue_url("jobs")),
            ("email outbox", str(box.outbox.path)),
        ]
        for label, value in rows:
            # soft_wrap: tokens and URLs must stay on one line to be copied
            console.print(f"[bold]{label:<15}[/] {value}", soft_wrap=True, highlight=False)
        console.print(f"[dim]time runs {speed:g}x production; Ctrl-C stops everything[/]")
        stop.wait()
    finally:
        console.print("[dim]stopping…[/]")
        if fleet is not None:
            fleet.stop()
        box.stop()
        console.print("sandbox stopped")


def gameday(
    scenario: Annotated[
        str,
        typer.Argument(
            help="healthy | poison-pill | backlog | partial-fail | dispatcher-errors | stale-connections"
        ),
    ],
    alert_mode: Mode = AlertMode.composite,
    speed: Speed = 60.0,
    reports_dir: Annotated[Path, typer.Option(help="Where the JSON report is written.")] = Path("reports"),
) -> None:
    """Run one game-day scenario in a fresh sandbox: timeline, summary, JSON report."""
    from sandbox.gameday.report import print_result, write_report
    from sandbox.gameday.runner import GameDay, GameDayOptions
    from sandbox.gameday.scenarios import SCENARIOS

    if scenario not in SCENARIOS:
        err.print(f"unknown scenario {scenario!r}: choose one of {', '.join(SCENARIOS)}")
        raise typer.Exit(2)
    speed = _check_speed(speed)
    console.print(
        f"[dim]game day {scenario}: synthesizing stage local, starting the sandbox at {speed:g}x…[/]"
    )
    options = GameDayOptions(scenario, alert_mode=alert_mode.value, speed=speed, reports_dir=reports_dir)
    result = GameDay(options).run(SCENARIOS[scenario])
    print_result(result, console)
    path = write_report(result, reports_dir)
    console.print(f"report: {path}")
    if result.outcome != "passed":
        raise typer.Exit(1)


app.command("gameday")(gameday)


def register(root: typer.Typer) -> None:
    """Mount `byoip gameday` on the root CLI (automation/cli.py calls this)."""
    root.command("gameday")(gameday)
