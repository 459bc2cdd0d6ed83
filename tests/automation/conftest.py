"""Shared fixtures: moto-backed clients and a fake clock for the automation scripts."""

from contextlib import contextmanager

import boto3
import pytest
from moto import mock_aws

from lambdas.common import tables as tables_schema

REGION = "us-east-1"
ACCOUNT = "123456789012"


@contextmanager
def moto_account(monkeypatch):
    """Fresh in-process moto account, with credentials that can never reach AWS."""
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        yield


@pytest.fixture
def aws(monkeypatch):
    """Fresh in-process moto account, with credentials that can never reach AWS."""
    with moto_account(monkeypatch):
        yield


def create_agents_table(ddb) -> None:
    """Stage `test`'s agents table (key `pk`), as the stack defines it."""
    ddb.create_table(
        TableName="byoip-test-agents",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


@pytest.fixture
def sqs(aws):
    return boto3.client("sqs", region_name=REGION)


@pytest.fixture
def cloudwatch(aws):
    return boto3.client("cloudwatch", region_name=REGION)


class FakeClock:
    """Monotonic clock that advances only when the code under test sleeps."""

    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock():
    return FakeClock()


ERRORS_ALARM = "BYOIP-test-DispatcherErrors"


def put_alarm(cloudwatch, name, state):
    """A metric alarm named `name`, forced into `state` (moto stores states, it does not evaluate)."""
    cloudwatch.put_metric_alarm(
        AlarmName=name,
        Namespace="AWS/Lambda",
        MetricName="Errors",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
    )
    cloudwatch.set_alarm_state(AlarmName=name, StateValue=state, StateReason="test")


@pytest.fixture
def errors_alarm(cloudwatch):
    """The dispatcher-errors alarm in OK; call the fixture's value to change its state."""
    put_alarm(cloudwatch, ERRORS_ALARM, "OK")

    def set_state(state):
        cloudwatch.set_alarm_state(AlarmName=ERRORS_ALARM, StateValue=state, StateReason="test")

    return set_state


@pytest.fixture
def tables(aws):
    ddb = boto3.client("dynamodb", region_name=REGION)
    for table in (tables_schema.CREATOR_LIMITS, tables_schema.JOBS):
        ddb.create_table(**tables_schema.create_table_request(table, f"byoip-test-{table.short}"))
    return ddb


def held(ddb, job_id, agent, creator, status="held", kind="post"):
    item = {
        "jobId": {"S": job_id},
        "agentId": {"S": agent},
        "creatorId": {"S": creator},
        "kind": {"S": kind},
        "payload": {"S": '{"n": 3}'},
        "critical": {"BOOL": False},
        "attempt": {"N": "2"},
        "status": {"S": status},
        "createdAt": {"N": "100"},
    }
    if status == "held":
        item["heldAgentId"] = {"S": f"{creator}#{agent}"}
    ddb.put_item(TableName="byoip-test-jobs", Item=item)


class EntryPoint:
    """`automation.cli.main` (the console script) in the shape CliRunner invokes."""

    name = "byoip"

    def main(self, args=(), prog_name=None, **_):
        from automation.cli import main

        main(list(args))


@pytest.fixture
def cli(monkeypatch):
    """Invoke the real entry point (automation.cli:main); clients.overrides is reset after each test."""
    from click.testing import CliRunner

    from automation import clients

    monkeypatch.setattr(clients, "overrides", {})
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(EntryPoint(), [str(a) for a in args])

    invoke.overrides = clients.overrides
    return invoke


def one_error_line(result):
    """The single `error: ...` line a bad input must produce (no traceback)."""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return lines[0]
