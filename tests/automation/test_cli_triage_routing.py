"""`byoip triage`: the maintenance window first, every alarm grouped by severity with its route,
and the error budget left per SLO (GetMetricData over the SLO catalog's own expression)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.stub import Stubber

import automation.commands.triage as triage
from automation.budget import budget_left, budget_queries
from contract.names import Names
from monitoring.slo_catalog import SLOS, TIME_TO_ASSIGN
from tests.automation.conftest import REGION, put_alarm

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def stage(sqs, cloudwatch):
    for suffix in ("jobs", "jobs-dlq", "jobs-quarantine"):
        sqs.create_queue(QueueName=f"byoip-t-{suffix}")
    return cloudwatch


def test_triage_groups_every_alarm_by_severity_and_shows_the_window_and_budgets(cli, stage, monkeypatch):
    # GIVEN an open window, a firing SLO page and budgets CloudWatch reports
    put_alarm(stage, "BYOIP-t-MaintenanceWindow", "ALARM")
    put_alarm(stage, "BYOIP-t-TimeToAssignFastBurn", "ALARM")
    left = {"JobSuccess": 87.5, "TimeToAssign": None, "ConnectSuccess": 99.0}
    monkeypatch.setattr(triage, "budget_left", lambda cw, slo, names, now: left[slo.id])
    # WHEN on-call runs triage
    result = cli("triage", "--stage", "t", "--region", REGION)
    # THEN
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("maintenance window OPEN since ") and lines[0].endswith(": pages are held")
    titles = [line.strip() for line in lines if " alarms of t " in line]
    assert titles == [
        f"CRITICAL alarms of t ({REGION}): page",
        f"HIGH alarms of t ({REGION}): page",
        f"WARNING alarms of t ({REGION}): ticket",
    ]
    critical = lines[
        lines.index(next(x for x in lines if "CRITICAL alarms" in x)) : lines.index(
            next(x for x in lines if "HIGH alarms" in x)
        )
    ]
    assert any("BYOIP-t-TimeToAssignFastBurn" in x and "ALARM" in x for x in critical)
    assert any("BYOIP-t-Incident" in x and "MISSING" in x for x in critical)
    budget = {x.split("│")[1].strip(): x.split("│")[4].strip() for x in lines if "28 days" in x}
    assert budget == {
        "Job success": "87.5 %",
        "Time to assign": "n/a (no events)",
        "Connect success": "99.0 %",
    }
    assert set(budget) == {slo.title for slo in SLOS}  # one row per SLO of the catalog


def test_triage_says_when_the_stage_has_no_window(cli, stage, monkeypatch):
    monkeypatch.setattr(triage, "budget_left", lambda *args: None)
    result = cli("triage", "--stage", "t", "--region", REGION)
    assert result.stdout.splitlines()[0] == "maintenance window: not deployed"


def test_budget_left_asks_for_the_slo_expression_over_its_period():
    # GIVEN CloudWatch's answer for the time-to-assign SLO
    cloudwatch = boto3.client(
        "cloudwatch", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x"
    )
    expected = {
        "MetricDataQueries": [
            {
                "Id": "a",
                "MetricStat": {
                    "Metric": {
                        "Namespace": "Huntaze/Dispatcher",
                        "MetricName": "AssignAttempts",
                        "Dimensions": [{"Name": "Stage", "Value": "t"}],
                    },
                    "Period": 28 * 86_400,
                    "Stat": "Sum",
                },
                "ReturnData": False,
            },
            {
                "Id": "o",
                "MetricStat": {
                    "Metric": {
                        "Namespace": "Huntaze/Dispatcher",
                        "MetricName": "AssignedOnTime",
                        "Dimensions": [{"Name": "Stage", "Value": "t"}],
                    },
                    "Period": 28 * 86_400,
                    "Stat": "Sum",
                },
                "ReturnData": False,
            },
            {
                "Id": "e",
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/Lambda",
                        "MetricName": "Errors",
                        "Dimensions": [{"Name": "FunctionName", "Value": "byoip-t-dispatcher-sqs"}],
                    },
                    "Period": 28 * 86_400,
                    "Stat": "Sum",
                },
                "ReturnData": False,
            },
            {
                "Id": "w",
                "MetricStat": {
                    "Metric": {
                        "Namespace": "Huntaze/Dispatcher",
                        "MetricName": "JobsWaitingLate",
                        "Dimensions": [{"Name": "Stage", "Value": "t"}],
                    },
                    "Period": 28 * 86_400,
                    "Stat": "Sum",
                },
                "ReturnData": False,
            },
            {
                "Id": "budget",
                "Expression": "100 * (1 - (a - o + e + w) / (a + e + w) / 0.005)",
                "ReturnData": True,
            },
        ],
        "StartTime": NOW - timedelta(days=28),
        "EndTime": NOW,
    }
    with Stubber(cloudwatch) as stub:
        stub.add_response(
            "get_metric_data",
            {"MetricDataResults": [{"Id": "budget", "Values": [42.0], "StatusCode": "Complete"}]},
            expected,
        )
        stub.add_response(
            "get_metric_data", {"MetricDataResults": [{"Id": "budget", "Values": []}]}, expected
        )
        # WHEN / THEN
        assert budget_left(cloudwatch, TIME_TO_ASSIGN, Names("t"), NOW) == 42.0
        assert budget_left(cloudwatch, TIME_TO_ASSIGN, Names("t"), NOW) is None  # no valid event


def test_every_slo_query_reads_only_metrics_and_returns_one_series():
    for slo in SLOS:
        queries = budget_queries(slo, Names("t"))
        assert [q["ReturnData"] for q in queries] == [False] * (len(queries) - 1) + [True]
        assert {q["Id"] for q in queries[:-1]} == {key for key, _ in slo.using}
