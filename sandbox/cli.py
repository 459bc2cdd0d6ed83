"""`byoip sandbox up` and `byoip gameday` (the only game-day command): the local sandbox."""

from __future__ import annotations

import importlib.util
import signal
import threading
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from contract.names import JOBS
from sandbox.clock import GAMEDAY_SPEED
from sandbox.console import make_console

# The sandbox extra's own dependencies: checked here, when `byoip` mounts these commands, so a
# missing one is named up front; they are imported only when a command runs.
for _module in ("moto", "websockets"):
    if importlib.util.find_spec(_module) is None:
        raise ModuleNotFoundError(f"No module named {_module!r}", name=_module)

# The scenario registry: `byoip gameday --help` lists it, so a new scenario shows up there by itself.
from sandbox.gameday.scenarios import SCENARIOS  # noqa: E402

app = typer.Typer(help="Local sandbox: the whole system on one machine.", no_args_is_help=True)
console = make_console()
err = make_console(stderr=True)
# Faster falls behind the compressed clock on a shared 2-core machine: at 60x a 5-minute lease is
# 5 real seconds already (benchmarks/gameday_speed.py checks every scenario at this speed).
MAX_SPEED = int(GAMEDAY_SPEED)


class AlertMode(StrEnum):
    composite = "composite"
    all = "all"


def _check_speed(speed: float) -> float:
    if not 1 <= speed <= MAX_SPEED:
        err.print(f"invalid --speed {speed:g}: allowed 1-{MAX_SPEED} (production seconds per real second)")
        raise typer.Exit(2)
    return speed


def _check_reports_dir(path: Path) -> Path:
    """Fail before the game day, not after it: the report must have somewhere to go."""
    if path.exists() and not path.is_dir():
        err.print(f"invalid --reports-dir {path}: it exists and is not a directory")
        raise typer.Exit(2)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        err.print(f"invalid --reports-dir {path}: cannot create it ({exc.strerror})")
        raise typer.Exit(2) from None
    return path


def _stopped() -> typer.Exit:
    """Ctrl-C: one line, exit status 130."""
    console.print("sandbox stopped")
    return typer.Exit(130)


Speed = Annotated[
    float,
    typer.Option(
        help=f"Production seconds per real second (1-{MAX_SPEED}; faster falls behind on a 2-core machine)."
    ),
]
Mode = Annotated[AlertMode, typer.Option(help="ALERT_MODE of the synthesized stack.")]


@app.command("up")
def up(
    speed: Speed = GAMEDAY_SPEED,
    alert_mode: Mode = AlertMode.composite,
    agents: Annotated[int, typer.Option(min=0, max=50, help="Reference agents to run in it.")] = 0,
) -> None:
    """Start the sandbox and keep it running; prints the WebSocket URL and an agent token. Ctrl-C stops."""
    from lambdas.common.auth import mint_token
    from sandbox.agent import AgentBehaviour
    from sandbox.fleet import Fleet, clock_backoff
    from sandbox.system import Sandbox, SandboxOptions

    speed = _check_speed(speed)
    console.print("[dim]synthesizing stage local and starting the sandbox…[/]")
    try:
        box = Sandbox(SandboxOptions(speed=speed, alert_mode=alert_mode.value)).start()
    except KeyboardInterrupt:
        raise _stopped() from None
    fleet = None
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        secret = box.jwt_secret()
        if agents:
            fleet = Fleet(box.gateway.url, lambda a, c: mint_token(secret, a, c), clock_backoff(box.clock))
            for i in range(agents):
                fleet.add(
                    f"agent-{i + 1}", "creator-1", AgentBehaviour(heartbeat_seconds=box.clock.real(120))
                )
        token = mint_token(secret, "my-agent", "creator-1", lifetime_s=900)
        pem = box.options.workdir / "patch-signing.pem"
        pem.parent.mkdir(parents=True, exist_ok=True)
        pem.write_bytes(box.patch_public_key())
        aws = f"{box.moto.shell_environ()} AWS_ACCESS_KEY_ID=sandbox AWS_SECRET_ACCESS_KEY=sandbox"
        rows = [
            ("WebSocket URL", box.gateway.url),
            ("agent token", f"{token}  (agentId my-agent, creatorId creator-1, 15 min)"),
            (
                "connect",
                f"python -m sandbox.agent {box.gateway.url} --token {token} --patch-public-key {pem}",
            ),
            ("publish patch", f"{aws} byoip patch publish FILE --version V --stage local --region us-east-1"),
            ("@connections", box.connections.endpoint),
            ("AWS (moto)", box.moto.shell_environ()),
            ("jobs queue", box.queue_url(JOBS)),
            ("email outbox", str(box.outbox.path)),
        ]
        for label, value in rows:
            # soft_wrap: tokens and URLs must stay on one line to be copied
            console.print(f"[bold]{label:<15}[/] {value}", soft_wrap=True, highlight=False)
        console.print(f"[dim]time runs {speed:g}x production; Ctrl-C stops everything[/]")
        stop.wait()
    finally:
        if fleet is not None:
            fleet.stop()
        box.stop()
        console.print("sandbox stopped")


def gameday(
    scenario: Annotated[
        str,
        typer.Argument(
            help=f"One of the {len(SCENARIOS)} scenarios of sandbox/gameday/scenarios.py (a runbook "
            f"section's, a failure mode's, healthy or chaos): {', '.join(SCENARIOS)}.",
        ),
    ],
    alert_mode: Mode = AlertMode.composite,
    speed: Speed = GAMEDAY_SPEED,
    reports_dir: Annotated[Path, typer.Option(help="Where the JSON and HTML reports are written.")] = Path(
        "reports"
    ),
) -> None:
    """Run one game-day scenario in a fresh sandbox: timeline, summary, JSON report."""
    from sandbox.gameday.report import html_path, print_result, write_report
    from sandbox.gameday.runner import GameDay, GameDayOptions

    if scenario not in SCENARIOS:
        err.print(f"unknown scenario {scenario!r}: choose one of {', '.join(SCENARIOS)}")
        raise typer.Exit(2)
    speed = _check_speed(speed)
    reports_dir = _check_reports_dir(reports_dir)
    console.print(
        f"[dim]game day {scenario}: synthesizing stage local, starting the sandbox at {speed:g}x…[/]"
    )
    options = GameDayOptions(scenario, alert_mode=alert_mode.value, speed=speed, reports_dir=reports_dir)
    try:
        result = GameDay(options).run(SCENARIOS[scenario])
    except KeyboardInterrupt:
        raise _stopped() from None
    print_result(result, console)
    path = write_report(result, reports_dir)
    console.print(f"report: {path}  pictures: {html_path(path)}", soft_wrap=True, highlight=False)
    if result.outcome != "passed":
        raise typer.Exit(1)
