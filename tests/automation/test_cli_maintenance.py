"""`byoip maintenance start|stop|status` against moto's CloudWatch: the window's alarm keeps its state."""

from __future__ import annotations

import boto3
import pytest

from tests.automation.conftest import REGION, one_error_line

WINDOW = "BYOIP-test-MaintenanceWindow"


@pytest.fixture
def deployed(aws):
    """The window's alarm as the stack defines it (metric nothing publishes, missing data ignored)."""
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    cloudwatch.put_metric_alarm(
        AlarmName=WINDOW,
        Namespace="Huntaze/ByoIP/Maintenance",
        MetricName="MaintenanceWindow",
        Dimensions=[{"Name": "Stage", "Value": "test"}],
        Statistic="Maximum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=0,
        ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="ignore",
    )
    return cloudwatch


def _state(cloudwatch) -> tuple[str, str]:
    (alarm,) = cloudwatch.describe_alarms(AlarmNames=[WINDOW])["MetricAlarms"]
    return alarm["StateValue"], alarm["StateReason"]


def test_start_status_stop(cli, deployed):
    # GIVEN a deployed, never opened window WHEN on-call opens it THEN the alarm is in ALARM with the reason
    assert cli("maintenance", "status", "--stage", "test", "--region", REGION).stdout.strip() == (
        "maintenance window closed: pages go out"
    )
    started = cli("maintenance", "start", "--stage", "test", "--reason", "deploy 42", "--region", REGION)
    assert started.exit_code == 0, started.stderr
    assert started.stdout.strip() == "maintenance window OPEN on test: pages are held (deploy 42)"
    assert _state(deployed) == ("ALARM", "maintenance window opened: deploy 42")
    status = cli("maintenance", "status", "--stage", "test", "--region", REGION).stdout.strip()
    assert status.startswith("maintenance window OPEN since ")
    assert status.endswith("(maintenance window opened: deploy 42): pages are held")
    # Starting twice keeps the first reason; stopping closes it.
    again = cli("maintenance", "start", "--stage", "test", "--region", REGION)
    assert again.exit_code == 0 and again.stdout.startswith("already open: ")
    stopped = cli("maintenance", "stop", "--stage", "test", "--region", REGION)
    assert stopped.exit_code == 0
    assert stopped.stdout.strip() == "maintenance window closed on test: still in ALARM pages in 120 s"
    assert _state(deployed) == ("OK", "maintenance window closed")
    assert cli("maintenance", "stop", "--stage", "test", "--region", REGION).stdout.strip() == (
        "already closed: pages go out"
    )


def test_a_stage_without_the_window_is_refused_unless_missing_is_ok(cli, aws):
    result = cli("maintenance", "start", "--stage", "test", "--region", REGION)
    assert result.exit_code == 1
    assert one_error_line(result) == (f"error: no alarm {WINDOW} in {REGION}: is stage test deployed there?")
    first_deploy = cli("maintenance", "start", "--stage", "test", "--region", REGION, "--missing-ok")
    assert first_deploy.exit_code == 0
    assert first_deploy.stdout.startswith(f"note: no alarm {WINDOW} in {REGION}")


TEST = ["--stage", "test", "--region", REGION]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([*TEST, "--reason", ""], "error: --reason must be 1-200 printable characters on one line, got ''"),
        ([*TEST, "--reason", "a\nb"], "error: --reason must be 1-200 printable characters on one line"),
        ([*TEST, "--reason", "x" * 201], "error: --reason must be 1-200 printable characters on one line"),
        (["--stage", "Prod", "--region", REGION], "error: invalid STAGE 'Prod'"),
        (["--stage", "test", "--region", "mars"], "error: --region 'mars' is not an AWS region name"),
    ],
)
def test_bad_input_is_one_line_exit_2(cli, deployed, args, message):
    result = cli("maintenance", "start", *args)
    assert result.exit_code == 2
    assert one_error_line(result).startswith(message)
    assert _state(deployed)[0] != "ALARM"
