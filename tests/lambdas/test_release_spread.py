"""Held-job releases on reconnect are spread: at most RELEASES_PER_SECOND per second per agent."""

from __future__ import annotations

import boto3
import pytest

from lambdas.common import aws
from lambdas.common.requeue import RELEASES_PER_SECOND
from lambdas.ws_connect.handler import handler as connect
from tests.lambdas import helpers as h


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        (5, [5] * 10 + [6] * 10 + [7] * 5),
        (899, [899] * 10 + [900] * 15),  # SQS's 15-minute maximum caps the spread
    ],
)
def test_a_large_release_is_spread_over_seconds(queues, monkeypatch, out, base, expected):
    # GIVEN 25 jobs held for agent-1 and a release delay of `base` seconds
    monkeypatch.setenv("RELEASE_DELAY_SECONDS", str(base))
    for n in range(25):
        h.put_job(f"j{n:02d}", "held")
    sqs = boto3.client("sqs", region_name=h.REGION)
    delays: list[int] = []
    sqs.meta.events.register(
        "provide-client-params.sqs.SendMessageBatch",
        lambda params, **_: delays.extend(e["DelaySeconds"] for e in params["Entries"]),
    )
    aws.override("sqs", sqs)
    # WHEN agent-1 connects
    assert connect(h.connect_event(h.token("agent-1"), "conn-1"), None) == {"statusCode": 200}
    # THEN every job is released, RELEASES_PER_SECOND per second of delay
    assert RELEASES_PER_SECOND == 10
    assert sorted(delays) == expected
    assert {h.job(f"j{n:02d}")["status"] for n in range(25)} == {"queued"}
    assert "agent_connected agentId=agent-1 released=25" in out.messages()
