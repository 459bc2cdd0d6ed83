"""The sandbox's log shipper: captured lines reach moto's CloudWatch Logs, per group, in order."""

from __future__ import annotations

import time

import boto3
from moto import mock_aws

from sandbox.log_shipping import STREAM, LogShipper


def test_lines_reach_their_groups_in_order_and_a_group_is_made_once():
    with mock_aws():
        logs = boto3.client("logs", region_name="us-east-1")
        start = int(time.time())  # CloudWatch Logs refuses events more than 14 days old
        now = iter(range(start, start + 10))
        shipper = LogShipper(logs, clock=lambda: next(now))
        shipper("/aws/lambda/a", "one")
        shipper("/aws/lambda/b", "other")
        shipper("/aws/lambda/a", "two")
        shipper.flush()
        shipper("/aws/lambda/a", "three")  # the group exists now: only the line is written
        shipper.stop()  # never started: stop() still writes what is left
        events = logs.get_log_events(logGroupName="/aws/lambda/a", logStreamName=STREAM)["events"]
        assert [(e["timestamp"], e["message"]) for e in events] == [
            (start * 1000, "one"),
            ((start + 2) * 1000, "two"),
            ((start + 3) * 1000, "three"),
        ]
        other = logs.get_log_events(logGroupName="/aws/lambda/b", logStreamName=STREAM)["events"]
        assert [e["message"] for e in other] == ["other"]
