"""The sandbox's stand-in for the product's notification service: creator events into a file."""

from __future__ import annotations

import json

import boto3
import pytest

from sandbox.clock import SimClock
from sandbox.creator_events import CreatorEvents, scaled_environment
from tests.automation.conftest import REGION, moto_account


@pytest.fixture
def client(monkeypatch):
    """Clients of a fresh in-process moto account."""
    with moto_account(monkeypatch):
        yield lambda service: boto3.client(service, region_name=REGION)


def _put(client, source, detail_type, detail):
    client("events").put_events(
        Entries=[{"Source": source, "DetailType": detail_type, "Detail": json.dumps(detail)}]
    )


def test_creator_events_reach_the_file_and_nothing_else_does(client, tmp_path):
    clock = SimClock(speed=30, real_start=1000.0)
    sink = CreatorEvents(client, clock, tmp_path / "creator-events.jsonl")
    _put(
        client,
        "huntaze.byoip",
        "Creator Agent Offline",
        {"creatorId": "c-1", "agentId": "a-1", "heldJobs": 2},
    )
    _put(client, "aws.ec2", "EC2 Instance State-change Notification", {"instance-id": "i-1"})
    sink.drain()
    (event,) = sink.events
    assert {k: v for k, v in event.items() if k != "time"} == {
        "type": "Creator Agent Offline",
        "creatorId": "c-1",
        "agentId": "a-1",
        "heldJobs": 2,
    }
    assert [json.loads(line) for line in (tmp_path / "creator-events.jsonl").read_text().splitlines()] == [
        event
    ]
    assert sink.of("Creator Agent Offline", "c-1") == [event]
    assert sink.of("Creator Agent Offline", "c-2") == []


def _runtime(env):
    from sandbox.lambda_runtime import FunctionSpec, LambdaRuntime
    from sandbox.metrics import MetricStore

    spec = FunctionSpec(
        "R", "byoip-local-lease-reaper", "lambdas.lease_reaper.handler.handler", 60, 256, None, env
    )
    return LambdaRuntime({spec.name: spec}, MetricStore(SimClock(speed=30)))


def test_the_watch_durations_are_scaled_to_real_seconds():
    clock = SimClock(speed=30)
    assert scaled_environment(clock, _runtime({"NOTIFY_OFFLINE_SECONDS": "900"})) == {
        "NOTIFY_OFFLINE_SECONDS": "30",
        "BREAKER_WINDOW_SECONDS": "20",
        "BREAKER_COOLDOWN_SECONDS": "10",
    }
    # a template without the setting: the 10-minute default
    assert scaled_environment(clock, _runtime({}))["NOTIFY_OFFLINE_SECONDS"] == "20"
