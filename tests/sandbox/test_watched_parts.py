"""The sandbox's own parts of "every part watched": EventBridge service events (a failed
GuardedRedrive starts it again, a failed rotation is matched), failed scheduled invocations, SNS
deliveries that fail, and SSM steps that outlive their timeout."""

from __future__ import annotations

from typing import Any

import pytest

from automation.documents import GUARDED_REDRIVE_RESTART
from sandbox.clock import SimClock
from sandbox.lambda_runtime import InvocationError, Throttled
from sandbox.metrics import MetricStore
from sandbox.outbox import Email, Outbox
from sandbox.poller import Schedule, read_schedules
from sandbox.service_events import ServiceEvents
from sandbox.ssm import Automation, Execution
from sandbox.template import Resolver

REDRIVE = "BYOIP-local-GuardedRedrive"


class StubAutomation:
    """Records starts instead of running documents."""

    def __init__(self, known: set[str]) -> None:
        self.known = known
        self.listeners: list[Any] = []
        self.started: list[tuple[str, dict[str, Any]]] = []

    def start(self, document: str, parameters: dict[str, Any]) -> Execution:
        if document not in self.known:
            raise KeyError(document)
        self.started.append((document, parameters))
        return Execution(document, parameters, 0.0)


@pytest.fixture()
def bus(local_template):
    metrics = MetricStore(SimClock(speed=60))
    automation = StubAutomation({REDRIVE})
    return ServiceEvents(Resolver(local_template), metrics, automation), metrics, automation  # type: ignore[arg-type]


def matched(metrics: MetricStore, rule: str) -> float:
    return metrics.total("AWS/Events", "MatchedEvents", {"RuleName": rule})


@pytest.mark.parametrize("status", ["Failed", "TimedOut", "Cancelled"])
def test_a_failed_guarded_redrive_is_matched_and_started_again_after_a_delay(bus, status):
    events, metrics, automation = bus
    (listener,) = automation.listeners  # SSM's status-change events come from the engine

    listener(Execution(REDRIVE, {}, 0.0, status=status))

    assert matched(metrics, "byoip-local-redrive-failed") == 1
    ((document, params),) = automation.started
    assert document == REDRIVE
    assert {k: v for k, v in params.items() if k != "AutomationAssumeRole"} == {
        k: [v] for k, v in GUARDED_REDRIVE_RESTART.items()
    }
    assert GUARDED_REDRIVE_RESTART["StartDelaySeconds"] == "240"  # at most 15 restarts an hour


@pytest.mark.parametrize("status", ["InProgress", "Success"])
def test_a_redrive_that_runs_or_succeeds_ends_the_chain(bus, status):
    events, metrics, automation = bus
    automation.listeners[0](Execution(REDRIVE, {}, 0.0, status=status))
    assert (matched(metrics, "byoip-local-redrive-failed"), automation.started) == (0, [])


def test_another_documents_failure_is_not_a_redrive_failure(bus):
    events, metrics, automation = bus
    automation.listeners[0](Execution("BYOIP-local-PauseCreator", {}, 0.0, status="Failed"))
    assert (matched(metrics, "byoip-local-redrive-failed"), automation.started) == (0, [])


def test_a_target_ssm_refuses_is_a_failed_invocation_of_the_rule(local_template):
    metrics = MetricStore(SimClock(speed=60))
    automation = StubAutomation(set())  # the document is gone
    ServiceEvents(Resolver(local_template), metrics, automation).put(  # type: ignore[arg-type]
        "aws.ssm",
        "EC2 Automation Execution Status-change Notification",
        {"Definition": REDRIVE, "Status": "Failed"},
    )
    assert metrics.total("AWS/Events", "FailedInvocations", {"RuleName": "byoip-local-redrive-failed"}) == 1


def test_rotation_failed_of_the_agents_key_is_matched_and_of_another_secret_is_not(bus, local_template):
    events, metrics, _ = bus
    resolver = Resolver(local_template)
    (secret,) = [lid for lid, _ in resolver.of_type("AWS::SecretsManager::Secret")]
    assert events.rotation_failed("arn:aws:secretsmanager:us-east-1:123456789012:secret:other") == []
    assert events.rotation_failed(resolver.resolve({"Ref": secret})) == ["byoip-local-rotation-failed"]
    assert matched(metrics, "byoip-local-rotation-failed") == 1


class StubRuntime:
    def __init__(self, metrics: MetricStore, error: Exception | None) -> None:
        self.metrics = metrics
        self.error = error

    def invoke(self, name: str, event: dict[str, Any]) -> Any:
        if self.error is not None:
            raise self.error
        return None


@pytest.mark.parametrize(
    ("error", "failed"),
    [
        (None, 0),
        (InvocationError("lease-reaper: boom"), 0),
        (Throttled("lease-reaper"), 1),
        (KeyError("x"), 1),
    ],
)
def test_a_scheduled_invocation_that_is_not_delivered_counts_failed_invocations(error, failed):
    metrics = MetricStore(SimClock(speed=60))
    rule = {"RuleName": "byoip-local-lease-reaper"}
    runtime = StubRuntime(metrics, error)
    Schedule("byoip-local-lease-reaper", 60, runtime, SimClock(speed=60), "byoip-local-lease-reaper").fire()  # type: ignore[arg-type]
    assert metrics.total("AWS/Events", "FailedInvocations", rule) == failed
    assert metrics.total("AWS/Events", "Invocations", rule) == 1 - failed


def test_schedules_carry_their_rule_names(local_template):
    names = {
        "arn:aws:lambda:us-east-1:123456789012:function:byoip-local-lease-reaper": "byoip-local-lease-reaper"
    }
    assert read_schedules(Resolver(local_template), names) == [
        ("byoip-local-lease-reaper", 60, "byoip-local-lease-reaper")
    ]


def test_an_outbox_that_cannot_deliver_counts_failed_notifications(tmp_path):
    metrics = MetricStore(SimClock(speed=60))
    outbox = Outbox(tmp_path / "outbox.jsonl", metrics)
    email = Email(
        1000.0, "arn:aws:sns:us-east-1:123456789012:byoip-local-ops-alerts", "A", "ALARM", "s", "b", ""
    )
    assert outbox.deliver(email) is True
    outbox.broken = True
    assert outbox.deliver(email) is False
    topic = {"TopicName": "byoip-local-ops-alerts"}
    assert metrics.total("AWS/SNS", "NumberOfNotificationsDelivered", topic) == 1
    assert metrics.total("AWS/SNS", "NumberOfNotificationsFailed", topic) == 1
    assert len(outbox.read()) == 1


def test_a_step_that_outlives_its_timeout_ends_the_execution_timed_out():
    script = "import time\n\ndef handler(events, context):\n    time.sleep(5)\n    return {}\n"
    step = {"name": "Slow", "action": "aws:executeScript", "timeoutSeconds": 1}
    step["inputs"] = {"Script": script, "Handler": "handler", "InputPayload": {}}
    content = {"mainSteps": [step]}
    doc = {
        "Type": "AWS::SSM::Document",
        "Properties": {"DocumentType": "Automation", "Name": "Slow", "Content": content},
    }
    automation = Automation(Resolver({"Resources": {"Slow": doc}}), SimClock(speed=600))
    seen: list[str] = []
    automation.listeners.append(lambda execution: seen.append(execution.status))
    execution = automation.start("Slow", {})
    automation.wait(10)
    assert (execution.status, seen) == ("TimedOut", ["InProgress", "TimedOut"])
