"""The whole system on one machine: moto + gateway + functions + pollers + alarms + automation.

    with Sandbox(SandboxOptions(speed=GAMEDAY_SPEED)) as box:
        box.fleet ...; box.submit(...); box.alarm_loop.state("DLQNotEmpty")

Everything binds to 127.0.0.1 on ports the OS picks and stops with `stop()`.
"""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from contract.names import PROBE, SECRET_ROTATION, Names
from lambdas.common.rotation import STEPS as ROTATION_STEPS
from lambdas.common.settings import (
    DEFAULT_ASSIGN_DEADLINE_SECONDS,
    DEFAULT_PROBE_DELIVER_SECONDS,
    budget_environment,
)
from monitoring.catalog import ALARMS
from monitoring.spec import Comparison, Dim, Metric, Missing
from sandbox.alarm_loop import AlarmLoop
from sandbox.capture import LogGroups, routed_stdout
from sandbox.clock import GAMEDAY_SPEED, SimClock
from sandbox.connections_api import ConnectionsApi
from sandbox.creator_events import CreatorEvents, scaled_environment
from sandbox.edge import Edge, read_edge
from sandbox.gateway import API_ID, Gateway, read_routes
from sandbox.iam.recorder import bind_sandbox
from sandbox.lambda_runtime import InvocationError, LambdaRuntime, Throttled, cold_start, read_functions
from sandbox.log_metrics import LogMetrics, read_filters
from sandbox.log_shipping import LogShipper
from sandbox.metrics import MetricStore
from sandbox.moto_server import MotoServer
from sandbox.outbox import Outbox
from sandbox.poller import EventSourcePoller, Schedule, read_mappings, read_schedules
from sandbox.provision import Provisioned, provision
from sandbox.queue_metrics import QueueSampler
from sandbox.service_events import ServiceEvents
from sandbox.ssm import Automation
from sandbox.template import Resolver, synthesize

DEFAULT_LEASE_S = 300


@dataclass
class SandboxOptions:
    stage: str = "local"
    alert_mode: str = "composite"
    speed: float = GAMEDAY_SPEED  # the game days' pace; `byoip sandbox up` and `gameday` cap it there
    template: dict[str, Any] | None = None  # default: synthesize the stage (child process)
    workdir: Path = field(default_factory=lambda: Path(".sandbox"))
    alarms: bool = True
    # Real seconds the gateway waits for `$connect`'s answer before it drops a handshake (the
    # websockets default); the fleet game day lengthens it with the agents' own wait.
    handshake_timeout_s: float = 10.0


class Sandbox:
    """Starts every part in dependency order; `stop()` tears them down in reverse."""

    def __init__(self, options: SandboxOptions | None = None) -> None:
        self.options = options or SandboxOptions()
        self.clock = SimClock(self.options.speed)
        self.template = self.options.template or synthesize(self.options.stage, self.options.alert_mode)
        self._stops: list[Any] = []

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> Sandbox:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        clock = self.clock
        # Handlers read os.environ, so the sandbox sets it; stop() puts the caller's back.
        saved_env = dict(os.environ)
        self._stops.append(lambda: (os.environ.clear(), os.environ.update(saved_env)))
        self.moto = MotoServer().start()
        self._stops.append(self.moto.stop)
        self.moto.export()
        self.client = self.moto.client_factory()
        self.resolver = Resolver(self.template)
        self.resources: Provisioned = provision(self.resolver, self.client, clock)
        self.functions = read_functions(self.resolver)

        self.metrics = MetricStore(clock)
        seed_heartbeats(self.metrics, stage=self.options.stage, now=clock.now())
        self.logs = LogGroups()
        self.logs.subscribe(LogMetrics(self.metrics, read_filters(self.resolver)))
        # The lines also reach moto's CloudWatch Logs, where `byoip job show` reads them.
        self.log_shipper = LogShipper(self.client("logs")).start()
        self._stops.append(self.log_shipper.stop)
        self.logs.subscribe(self.log_shipper)
        routing = routed_stdout(self.logs)
        routing.__enter__()
        self._stops.append(lambda: routing.__exit__(None, None, None))

        self._stops.append(cold_start([spec.handler for spec in self.functions.values()]))
        # Calls are recorded (tests, BYOIP_AWS_CALLS_DIR) under this sandbox's name: its binding says
        # which moto resource each template resource became.
        self.deployment = f"sandbox-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.runtime = LambdaRuntime(self.functions, self.metrics, self.deployment)
        arns = {f"arn:aws:lambda:us-east-1:123456789012:function:{n}": n for n in self.functions}
        api_id, limits = read_edge(self.resolver)
        self.edge = Edge(clock, self.metrics, api_id, limits)
        self.gateway = Gateway(
            self.runtime,
            read_routes(self.resolver, arns),
            clock.real(600),
            edge=self.edge,
            handshake_timeout_s=self.options.handshake_timeout_s,
        ).start()
        self._stops.append(self.gateway.stop)
        self.connections = ConnectionsApi(self.gateway).start()
        self._stops.append(self.connections.stop)
        bind_sandbox(
            self.deployment,
            self.resolver,
            stage=self.options.stage,
            endpoint=self.connections.endpoint,
            api_id=API_ID,
        )

        lease = int(self.runtime.spec("dispatcher-sqs").env.get("LEASE_SECONDS", DEFAULT_LEASE_S))
        self.runtime.export_environment(
            {
                # The management API endpoint of the local gateway replaces the execute-api one.
                "WS_ENDPOINT": self.connections.endpoint,
                "LEASE_SECONDS": str(clock.scaled_int(lease)),
                # Handlers count budgets per real minute (day): speed production minutes (days) of them.
                **{
                    name: str(round(int(value) * clock.speed)) for name, value in budget_environment().items()
                },
                # SentTimestamp and the handlers' clock are both real time here: scale the deadline.
                "ASSIGN_DEADLINE_SECONDS": str(clock.scaled_int(DEFAULT_ASSIGN_DEADLINE_SECONDS)),
                # The black-box probe connects where agents do, and waits for its job as long in
                # production time as it would in AWS.
                "WS_PUBLIC_URL": self.gateway.url,
                "PROBE_DELIVER_SECONDS": str(clock.scaled_int(DEFAULT_PROBE_DELIVER_SECONDS)),
                # lease-reaper's creator watch: notification delay, breaker window and cool-down
                **scaled_environment(clock, self.runtime),
                **self.moto.environ(),
            }
        )

        sqs = self.client("sqs")
        by_arn = {self.resolver.attrs[(lid, "Arn")]: url for lid, url in self.resources.queues.items()}
        self.pollers = [
            EventSourcePoller(m, self.runtime, sqs, clock).start()
            for m in read_mappings(self.resolver, by_arn)
        ]
        for poller in self.pollers:
            self._stops.append(poller.stop)
        # The black-box probe waits on other functions, in real seconds that a production minute
        # at 60x cannot always hold: it fires on its cadence, runs overlapping as EventBridge's would
        # (reserved.probe_agent gives overlapping runs their own agents).
        probe = Names(self.options.stage).function(PROBE)
        self.schedules = [
            Schedule(fn, every, self.runtime, clock, rule, overlap=fn == probe).start()
            for fn, every, rule in read_schedules(self.resolver, arns)
        ]
        for schedule in self.schedules:
            self._stops.append(schedule.stop)
        self.sampler = QueueSampler(list(self.resources.queue_names.values()), self.metrics, clock).start()
        self._stops.append(self.sampler.stop)

        workdir = self.options.workdir
        self.outbox = Outbox(workdir / "outbox.jsonl", self.metrics)
        self.creator_events = CreatorEvents(self.client, clock, workdir / "creator-events.jsonl").start()
        self._stops.append(self.creator_events.stop)
        self.automation = Automation(self.resolver, clock, self.deployment)
        self._stops.append(lambda: self.automation.wait(10))
        self.service_events = ServiceEvents(self.resolver, self.metrics, self.automation)
        self.alarm_loop: AlarmLoop | None = None
        if self.options.alarms:
            self.alarm_loop = AlarmLoop(
                self.template,
                self.resolver,
                self.metrics,
                clock,
                self.outbox,
                self.automation,
                self.client("cloudwatch"),
            ).start()
            self._stops.append(self.alarm_loop.stop)

    def stop(self) -> None:
        """Stop everything started so far, last started first."""
        while self._stops:
            stop = self._stops.pop()
            try:
                stop()
            except Exception:  # keep tearing down the rest
                pass

    # Conveniences for scenarios, tests and `sandbox up`.

    def queue_url(self, suffix: str) -> str:
        """URL of the queue whose name ends with `suffix` ('jobs', 'jobs-dlq', 'jobs-quarantine')."""
        return self.resources.queue_url(Names(self.options.stage).queue(suffix))

    def table(self, suffix: str) -> str:
        name = Names(self.options.stage).table(suffix)
        if name not in self.resources.tables.values():
            raise KeyError(f"the template declares no table {name!r}")
        return name

    def jwt_secret(self) -> str:
        """The JWT signing key, read back from the sandbox's Secrets Manager."""
        (arn,) = self.resources.secrets.values()
        return self.client("secretsmanager").get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")[
            "SecretString"
        ]

    def rotate_jwt_secret(self) -> str:
        """Rotate the agents' key as Secrets Manager does: the stack's rotation function, its four
        steps in order for a new version id; returns the new current key."""
        (arn,) = self.resources.secrets.values()
        function = Names(self.options.stage).function(SECRET_ROTATION)
        token = str(uuid.uuid4())
        for step in ROTATION_STEPS:
            try:
                self.runtime.invoke(function, {"SecretId": arn, "ClientRequestToken": token, "Step": step})
            except (InvocationError, Throttled):
                self.service_events.rotation_failed(arn)  # Secrets Manager stops and reports it
                raise
        return self.jwt_secret()

    def patch_public_key(self) -> bytes:
        """PEM of the stage's patch-signing key, the way an operator configures agents with it."""
        from cryptography.hazmat.primitives import serialization

        alias = Names(self.options.stage).patch_signing_key_alias
        der = self.client("kms").get_public_key(KeyId=alias)["PublicKey"]
        key = serialization.load_der_public_key(der)
        return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)

    def wait_for(self, predicate: Any, timeout_s: float, poll_s: float = 0.1) -> bool:
        """Poll `predicate()` until true or `timeout_s` real seconds passed."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(poll_s)
        return bool(predicate())


def seed_heartbeats(store: MetricStore, *, stage: str, now: float) -> int:
    """The minutes before the start as a running stack has them: a healthy value for every alarm
    whose missing data is breaching (the dead-man's switches: `Sum < 1` of a run heartbeat).

    Those alarms read their last minutes as soon as the alarm loop starts; a sandbox that starts
    with no history would page them before its scheduled functions first ran, as a first deploy
    would if `make deploy`'s maintenance window did not hold its pages. The sandbox stands for a
    stack that has been running, so it starts with the runs it would have seen.
    """
    seeded = 0
    for spec in ALARMS:
        source = spec.source
        if spec.missing is not Missing.BREACHING or spec.comparison is not Comparison.LT:
            continue
        if not isinstance(source, Metric) or source.dim is not Dim.STAGE:
            continue
        minutes = spec.evaluation_periods * spec.period_s // 60 + 2
        for back in range(minutes, 0, -1):
            store.put(source.namespace, source.name, spec.threshold, {"Stage": stage}, now - back * 60)
            seeded += 1
    return seeded
