"""The sandbox's alarm loop feeds `byoip maintenance` (SetAlarmState in moto) to the evaluator, and
the outbox says which route (page or ticket) each email took."""

from __future__ import annotations

import time

import boto3
from moto import mock_aws

from contract.names import alert_route
from monitoring.catalog import ALARMS, COMPOSITE
from monitoring.evaluator import ALARM, OK, Evaluator, MetricKey, load_alarms
from monitoring.routing import page_wrappers, pages_in_composite_mode
from monitoring.slo_catalog import SLO_COMPOSITES
from sandbox.alarm_loop import mirror_alarm, sync_set_states
from sandbox.outbox import Email, Outbox
from tests.alarms.test_suppress import INCIDENT, WINDOW, _template

DLQ = MetricKey.of("AWS/SQS", "ApproximateNumberOfMessagesVisible", {"QueueName": "t-jobs-dlq"})


def _pages(ev: Evaluator) -> list[tuple[int, str]]:
    return [(n.time, n.state) for n in ev.notifications if n.kind == "sns" and n.alarm == INCIDENT]


def test_a_window_opened_in_cloudwatch_holds_the_page_until_it_closes(monkeypatch):
    for key, value in {"AWS_ACCESS_KEY_ID": "t", "AWS_SECRET_ACCESS_KEY": "t"}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
        mirror_alarm(cloudwatch, WINDOW)
        ev = Evaluator(load_alarms(_template()), initial_state=OK)
        assert sync_set_states(ev, cloudwatch, 0) == []  # same state on both sides: nothing to feed
        # WHEN on-call opens the window (what `byoip maintenance start` does)
        cloudwatch.set_alarm_state(AlarmName=WINDOW, StateValue="ALARM", StateReason="opened: deploy")
        (change,) = sync_set_states(ev, cloudwatch, 30)
        assert (change.alarm, change.new, change.time) == (WINDOW, ALARM, 30)
        for minute in range(1, 10):
            ev.put(DLQ, minute * 60, 1)
        ev.run(60, 300)
        assert ev.states[INCIDENT] == ALARM and _pages(ev) == []
        # THEN closing it lets the page out when the extension ends
        cloudwatch.set_alarm_state(AlarmName=WINDOW, StateValue="OK", StateReason="closed")
        sync_set_states(ev, cloudwatch, 330)
        ev.release(449)
        assert _pages(ev) == []
        ev.release(450)
        assert _pages(ev) == [(450, ALARM)]


def test_the_outbox_records_each_emails_route(tmp_path):
    outbox = Outbox(tmp_path / "outbox.jsonl")
    for topic in ("byoip-local-ops-alerts", "byoip-local-ops-tickets"):
        outbox.deliver(Email(0, topic, "A", ALARM, "s", "b", "", route=alert_route(topic) or ""))
    assert [(e["topic"], e["route"]) for e in outbox.read()] == [
        ("byoip-local-ops-alerts", "page"),
        ("byoip-local-ops-tickets", "ticket"),
    ]
    assert [e.topic for e in outbox.pages()] == ["byoip-local-ops-alerts"]
    assert alert_route("byoip-local-jobs") is None


def test_the_running_sandbox_holds_pages_while_byoip_maintenance_says_so(box):
    # GIVEN the local stack running, its alarm loop evaluating the template's alarms
    loop = box.alarm_loop
    assert loop is not None and loop.state("MaintenanceWindow") == OK
    name = loop.name("MaintenanceWindow")
    held = [c for c in loop.alarms.composites.values() if c.actions_suppressor == name]
    # Incident, the SLO pages and every paging unit alarm's <Id>Page wrapper (monitoring/routing.py)
    paging = [c.id for c in (COMPOSITE, *SLO_COMPOSITES) if pages_in_composite_mode(c)]
    paging += [w.id for w in page_wrappers(ALARMS)]
    assert {c.name.removeprefix("BYOIP-local-") for c in held} == set(paging)
    assert {"Incident", "TimeToAssignFastBurn", "ProbeFailedPage"} <= set(paging)
    # WHEN on-call opens the window in (moto's) CloudWatch, as `byoip maintenance start` does
    cloudwatch = box.client("cloudwatch")
    cloudwatch.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="opened: test")
    # THEN the loop takes it within a tick or two (each a quarter of a production minute), and keeps it
    deadline = time.monotonic() + 30
    while loop.state("MaintenanceWindow") != ALARM and time.monotonic() < deadline:
        time.sleep(0.2)
    assert loop.state("MaintenanceWindow") == ALARM
    assert any(e.alarm == name and e.state == ALARM for e in loop.events)
    cloudwatch.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="closed")
    deadline = time.monotonic() + 30
    while loop.state("MaintenanceWindow") != OK and time.monotonic() < deadline:
        time.sleep(0.2)
    assert loop.state("MaintenanceWindow") == OK
