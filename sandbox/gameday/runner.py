"""Runs one game-day scenario in a fresh sandbox and measures it.

Sequence: start the sandbox and a fleet, steady traffic, a warm-up, then the scenario
(fault through a real path, waits for detection, the operator's or automation's
recovery), then drain and account for every job. Times are production minutes since the
fault (the sandbox runs `speed` times faster than production).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from contract.names import DLQ, JOBS, QUARANTINE, Names
from lambdas.common.auth import mint_token
from lambdas.common.tables import JOBS as JOBS_TABLE
from monitoring.failure_modes import FAILURE_MODES, FailureMode
from monitoring.routing import PAGE_WRAPPER_SUFFIX, Route
from monitoring.slo_catalog import OUTLIVE_INCIDENTS
from sandbox.agent import AgentBehaviour
from sandbox.clock import GAMEDAY_SPEED
from sandbox.fleet import Fleet, clock_backoff
from sandbox.gameday.history import seed_slo_history
from sandbox.gameday.ledger import Accounting, Ledger
from sandbox.gameday.recording import record
from sandbox.gameday.timeline import Timeline
from sandbox.gameday.traffic import Producer, TrafficPlan
from sandbox.system import Sandbox, SandboxOptions

CREATORS = ("creator-1", "creator-2")
WARMUP_MIN = 3
BASE_RATE = 6  # jobs per production minute
DETECT_TIMEOUT_MIN = 50
RECOVER_TIMEOUT_MIN = 60
STUCK_AFTER_MIN = 3  # a job still pending this long after it was sent is part of the incident
# Alarm names ending so stay in ALARM until on-call handles what they report: parked poison pills
# wait in the quarantine for a human (runbook G). A hand-off, not an outage: recovery does not wait.
# So does a failed key rotation: RotationFailed holds an hour for triage (monitoring/watched.py),
# the rotation being left half done until the next schedule; the key in use stays valid meanwhile.
HANDED_OFF = ("-QuarantineNotEmpty", "-RotationFailed", "-RotationFailedPage")
# Real seconds between two looks at the ledger: each look scans JobsTable, and moto serves one
# DynamoDB request at a time, so looking every poll starves the functions (leases expire,
# jobs are re-delivered and the backlog never drains).
LEDGER_EVERY_S = 0.5


class ScenarioFailed(RuntimeError):
    """The scenario could not reach a step (the message says which)."""


@dataclass
class GameDayOptions:
    scenario: str
    alert_mode: str = "composite"
    speed: float = GAMEDAY_SPEED
    agents: int = 10
    template: dict[str, Any] | None = None
    reports_dir: Path = field(default_factory=lambda: Path("reports"))


@dataclass
class Result:
    """What a game day measured; `as_dict` is the JSON report."""

    scenario: str
    section: str
    alert_mode: str
    speed: float
    expected_alarms: list[str]
    fired_alarms: list[str]
    detection_min: float | None
    first_email_min: float | None
    recovery_min: float | None
    emails: list[dict[str, Any]]  # from the fault until recovery: the incident's emails
    automations: list[dict[str, Any]]
    accounting: Accounting
    timeline: list[dict[str, Any]]
    redeliveries: int  # pushes repeated after an expired lease or a reconnect (at-least-once)
    duplicate_completions: int  # a job completed more than once: a real bug
    wall_seconds: float
    outcome: str = "passed"
    problems: list[str] = field(default_factory=list)
    setup_alarms: list[str] = field(default_factory=list)  # fired by the scenario's setup, before the fault
    setup_emails: list[dict[str, Any]] = field(default_factory=list)
    later_emails: list[dict[str, Any]] = field(default_factory=list)  # after recovery
    recording: dict[str, Any] = field(default_factory=dict)  # the pictures' data (recording.py)
    creator_events: list[dict[str, Any]] = field(default_factory=list)  # creator-events.jsonl
    # The failure mode the scenario proves (monitoring/failure_modes.py), its first page (an ALARM
    # email of one of the mode's paging alarms) and when the outage ended (the first operator
    # action after the fault, else recovery): the page must come within the mode's bound, before it.
    failure_mode: str | None = None
    first_page_min: float | None = None
    first_page_alarm: str | None = None
    outage_end_min: float | None = None

    def as_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        out.pop("recording")
        out["accounting"] = self.accounting.as_dict()
        out["time_unit"] = "production minutes since the fault"
        return out


class GameDay:
    """The running game day; scenarios drive it through these methods."""

    def __init__(self, options: GameDayOptions) -> None:
        self.options = options
        self.fault_time: float | None = None
        self.recovered_time: float | None = None
        self.problems: list[str] = []

    # ---- lifecycle -------------------------------------------------------------------

    def run(self, scenario: Any) -> Result:
        """Run `scenario` (see scenarios.py) end to end and return the measurements."""
        started = time.monotonic()
        workdir = Path(".sandbox") / scenario.name
        options = SandboxOptions(
            alert_mode=self.options.alert_mode,
            speed=self.options.speed,
            template=self.options.template,
            workdir=workdir,
        )
        with Sandbox(options) as box:
            self.box = box
            self.clock = box.clock
            self.timeline = Timeline(box.clock)
            assert box.alarm_loop is not None
            self.alarms = box.alarm_loop
            self.alarms.listeners.append(self.timeline.on_alarm)
            box.automation.listeners.append(self.timeline.on_automation)
            run_start = box.clock.now()
            seed_slo_history(box.metrics, stage=box.options.stage, now=run_start, jobs_per_minute=BASE_RATE)
            self._start_fleet()
            try:
                self.wait_minutes(WARMUP_MIN)
                try:
                    scenario.run(self)
                except ScenarioFailed as exc:
                    states = {k.rsplit("-", 1)[-1]: v for k, v in self.alarms.evaluator.states.items()}
                    self.problems.append(f"{exc} (alarm states: {states})")
                self._drain()
            finally:
                self.producer.stop()
                self.fleet.stop()
            accounting = self.ledger.account()
            result = self._result(scenario, accounting, time.monotonic() - started)
            self.alarms.stop()  # the evaluator is read below: no tick may run meanwhile
            store, evaluator, stage = box.metrics, self.alarms.evaluator, box.options.stage
            result.recording = record(
                store, evaluator, stage, self.fault_time, self.clock.now(), run_start=run_start
            )
            return result

    def _start_fleet(self) -> None:
        box = self.box
        secret = box.jwt_secret()
        token = lambda agent, creator: mint_token(secret, agent, creator)  # noqa: E731
        self.fleet = Fleet(box.gateway.url, token, clock_backoff(box.clock))
        self.agents: list[tuple[str, str]] = []
        for i in range(self.options.agents):
            agent_id, creator = f"agent-{i + 1}", CREATORS[i % len(CREATORS)]
            # A heartbeat every 2 production minutes (well inside the 5-minute lease), jobs take
            # 5 production seconds. At 60x, denser traffic saturates moto's DynamoDB.
            self.fleet.add(agent_id, creator, AgentBehaviour(box.clock.real(5), False, box.clock.real(120)))
            self.agents.append((agent_id, creator))
        if not self.fleet.wait_online(timeout=30):
            raise ScenarioFailed("the agent fleet did not connect within 30 s")
        names = Names(box.options.stage)
        queues = {"jobs": names.queue(JOBS), "dlq": names.queue(DLQ), "quarantine": names.queue(QUARANTINE)}
        self.ledger = Ledger(box.client("dynamodb"), box.table(JOBS_TABLE.short), queues)
        plan = TrafficPlan(agents=list(self.agents), per_minute=BASE_RATE)
        self.producer = Producer(box.client("sqs"), box.queue_url(JOBS), self.ledger, box.clock, plan).start()

    # ---- helpers for scenarios -------------------------------------------------------

    def fault(self, text: str) -> None:
        """Mark the fault: every time in the report counts from here."""
        self.fault_time = self.timeline.add("fault", text).time

    def action(self, text: str) -> None:
        self.timeline.add("action", text)

    def note(self, text: str) -> None:
        self.timeline.add("note", text)

    def wait_minutes(self, minutes: float) -> None:
        """Let `minutes` of production time pass."""
        time.sleep(self.clock.real(minutes * 60))

    def wait_until(
        self, predicate: Callable[[], bool], minutes: float, what: str, every: float = 0.05
    ) -> float:
        """Wait (production minutes) for `predicate`, tried every `every` real seconds; when it held."""
        deadline = time.monotonic() + self.clock.real(minutes * 60)
        while time.monotonic() < deadline:
            if predicate():
                return self.clock.now()
            time.sleep(every)
        raise ScenarioFailed(f"{what} did not happen within {minutes} production minutes")

    def wait_alarm(self, alarm_id: str, state: str = "ALARM", minutes: float = DETECT_TIMEOUT_MIN) -> float:
        return self.wait_until(lambda: self.alarms.state(alarm_id) == state, minutes, f"{alarm_id} {state}")

    def all_ok(self) -> bool:
        """Every alarm OK, but the hand-off alarms (HANDED_OFF) and the SLO burn windows and tickets,
        which outlive an incident by design."""
        lasting = {Names(self.box.options.stage).alarm(i) for i in OUTLIVE_INCIDENTS}
        states = self.alarms.evaluator.states.items()
        return all(s == "OK" for n, s in states if n not in lasting and not n.endswith(HANDED_OFF))

    def wait_recovered(self, minutes: float = RECOVER_TIMEOUT_MIN) -> None:
        """Recovered: alarms OK (hand-offs aside), nothing in the DLQ, no automation running, no job stuck."""
        dlq = Names(self.box.options.stage).queue(DLQ)

        def recovered() -> bool:
            from sandbox.gameday.ledger import queue_bodies

            running = any(x.status == "InProgress" for x in self.box.automation.executions)
            if not self.all_ok() or queue_bodies(dlq) or running:
                return False
            # Steady traffic always has a job or two in flight; older ones are the incident's. A job
            # held for an agent that is connected again is the incident's too (nothing releases it).
            if self.ledger.stuck(self.clock.now() - STUCK_AFTER_MIN * 60) or self.missing_agents():
                return False
            return not self.held_for_connected()

        what = "recovery (alarms OK, DLQ empty, automations done, every agent back, no job stuck or held)"
        self.recovered_time = self.wait_until(recovered, minutes, what, every=LEDGER_EVERY_S)
        text = (
            "recovered: every alarm OK (hand-offs to on-call aside), DLQ empty, every agent that"
            " should be online connected, no job stuck or held for a connected agent"
        )
        self.timeline.add("recovered", text, time=self.recovered_time)

    def start_automation(self, document_suffix: str, parameters: dict[str, Any]) -> bool:
        """StartAutomationExecution of a template document (as an operator would); False if absent."""
        for name in self.box.automation.documents:
            if name.endswith(f"-{document_suffix}"):
                self.box.automation.start(name, {k: [v] for k, v in parameters.items()})
                return True
        self.problems.append(f"the template has no {document_suffix} automation document")
        return False

    def _drain(self) -> None:
        """Stop the producer and wait until no job is still on its way."""
        self.producer.stop()
        self.box.automation.wait(self.clock.real(30 * 60))
        try:
            self.wait_until(self._drained, 30, "draining the queue", every=LEDGER_EVERY_S)
        except ScenarioFailed as exc:
            self.problems.append(str(exc))

    def _drained(self) -> bool:
        accounting = self.ledger.account()
        if accounting.pending or self.missing_agents():
            return False
        return not self.held_for_connected(accounting)

    def missing_agents(self) -> list[str]:
        """Agents not connected though their owner wants them online: until they are back, jobs
        held for them are the incident's, not their owner's choice."""
        return [a for a, agent in self.fleet.agents.items() if not agent.paused and not agent.online.is_set()]

    def held_for_connected(self, accounting: Accounting | None = None) -> list[str]:
        """Held jobs whose agent is connected right now: a held job waits for its agent's next
        `$connect`, so one left once the agent is back is a job nothing will deliver."""
        online = {a for a, agent in self.fleet.agents.items() if agent.online.is_set()}
        return self.ledger.held_for(online, accounting)

    # ---- results ---------------------------------------------------------------------

    def _minutes(self, t: float | None) -> float | None:
        if t is None or self.fault_time is None:
            return None
        return round((t - self.fault_time) / 60, 1)

    def _result(self, scenario: Any, accounting: Accounting, wall: float) -> Result:
        fault = self.fault_time or 0
        end = self.recovered_time if self.recovered_time is not None else float("inf")
        alarm = self.timeline.first("alarm", fault)
        email = self.timeline.first("email", fault, "ALARM")
        entries = self.timeline.sorted()
        alarms = [e for e in entries if e.kind == "alarm"]
        fired = sorted({e.text.split(" ")[0] for e in alarms if fault <= e.time <= end})
        setup = sorted({e.text.split(" ")[0] for e in alarms if e.time < fault})
        emails = [e.__dict__ for e in self.box.outbox.emails]
        detection = self._minutes(alarm.time) if alarm and self.fault_time else None
        # Recovery is from an incident: nothing fired, nothing to recover from.
        recovery = self._minutes(self.recovered_time) if detection is not None else None
        duplicate_completions = sum(n - 1 for n in self.fleet.completions().values() if n > 1)
        judged = fired if getattr(scenario, "judge_alarms", True) else []
        problems = self.problems + judge(
            scenario.expected, judged, accounting, duplicate_completions, detection, recovery
        )
        mode = mode_of(scenario.name)
        page = self._first_page(mode) if mode else None
        outage_end = self.timeline.first("action", fault)
        outage_end_time = outage_end.time if outage_end else self.recovered_time
        if mode:
            problems += judge_page(
                mode, self._minutes(page.time) if page else None, self._minutes(outage_end_time)
            )
        return Result(
            scenario=scenario.name,
            section=scenario.section,
            alert_mode=self.options.alert_mode,
            speed=self.options.speed,
            expected_alarms=list(scenario.expected),
            fired_alarms=fired,
            detection_min=detection,
            first_email_min=self._minutes(email.time) if email and self.fault_time else None,
            recovery_min=recovery,
            emails=[e for e in emails if fault <= e["time"] <= end],
            automations=self._automations(),
            accounting=accounting,
            timeline=[e.as_dict() for e in entries],
            redeliveries=sum(n - 1 for n in self.fleet.assignments().values() if n > 1),
            duplicate_completions=duplicate_completions,
            wall_seconds=round(wall, 1),
            outcome="failed" if problems else "passed",
            problems=problems,
            setup_alarms=setup,
            setup_emails=[e for e in emails if e["time"] < fault],
            later_emails=[e for e in emails if e["time"] > end],
            creator_events=list(self.box.creator_events.events),
            failure_mode=mode.id if mode else None,
            first_page_min=self._minutes(page.time) if page else None,
            first_page_alarm=page.alarm if page else None,
            outage_end_min=self._minutes(outage_end_time),
        )

    def _first_page(self, mode: FailureMode) -> Any:
        """The first page after the fault from one of `mode`'s paging alarms, or None."""
        pages = self.pages_of(mode, self.fault_time or 0)
        return min(pages, key=lambda e: e.time, default=None)

    def pages_of(self, mode: FailureMode, since: float) -> list[Any]:
        """ALARM emails to the page topic since `since` from one of `mode`'s paging alarms (in
        composite mode a paging unit alarm pages through its `<Id>Page` wrapper)."""
        names = Names(self.box.options.stage)
        ids = {*mode.pages, *(f"{i}{PAGE_WRAPPER_SUFFIX}" for i in mode.pages)}
        wanted = {names.alarm(i) for i in ids}
        return [
            e
            for e in list(self.box.outbox.emails)
            if e.state == "ALARM" and e.route == Route.PAGE and e.alarm in wanted and e.time >= since
        ]

    def _automations(self) -> list[dict[str, Any]]:
        return [
            {
                "document": x.document,
                "status": x.status,
                "started_min": self._minutes(x.started),
                "finished_min": self._minutes(x.finished),
                "outputs": x.outputs,
                "error": x.error,
            }
            for x in self.box.automation.executions
        ]


def mode_of(scenario: str) -> FailureMode | None:
    """The failure mode whose game day `scenario` is, if any."""
    return next((m for m in FAILURE_MODES if m.game_day == scenario), None)


def judge_page(mode: FailureMode, first_page: float | None, outage_end: float | None) -> list[str]:
    """A failure mode's game day fails unless one of its paging alarms paged within its bound
    (production minutes after the fault) and before the outage ended."""
    paging = ", ".join(mode.pages)
    if first_page is None:
        return [f"{mode.id}: no page from {paging}"]
    problems, said = [], f"{mode.id}: first page at {first_page} min"
    if first_page > mode.page_within_min:
        problems.append(f"{said}, later than {mode.page_within_min:g} min")
    if outage_end is not None and first_page > outage_end:
        problems.append(f"{said}, after the outage ended ({outage_end} min)")
    return problems


def judge(
    expected: tuple[str, ...],
    fired: list[str],
    accounting: Accounting,
    duplicate_completions: int,
    detection: float | None,
    recovery: float | None,
) -> list[str]:
    """What makes a game day fail (re-deliveries alone do not: delivery is at-least-once)."""
    problems = []
    if accounting.lost:
        problems.append(f"{accounting.lost} job(s) lost: {accounting.lost_ids[:5]}")
    if duplicate_completions:
        problems.append(f"{duplicate_completions} duplicate completion(s): a job completed twice")
    missing = [a for a in expected if a not in fired]
    if missing:
        problems.append(f"expected alarm(s) never fired: {', '.join(missing)}")
    if not expected and fired:
        problems.append(f"unexpected alarm(s) fired: {', '.join(fired)}")
    if recovery is not None and detection is not None and recovery < detection:
        problems.append(f"recovery ({recovery} min) before detection ({detection} min)")
    return problems
