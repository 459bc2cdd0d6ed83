"""Run each document's inlined script the way aws:executeScript does: InputPayload → handler(events, None).

The payload is built from the document's own parameters (defaults, plus what an operator
types), so a renamed parameter or handler key fails here, not in AWS.
"""

import json
import re

import boto3

from automation import documents as docs
from tests.automation.conftest import ERRORS_ALARM, held

LIMITS = "byoip-test-creator-limits"
JOBS = "byoip-test-jobs"

ROLE = "arn:aws:iam::123456789012:role/automation"


def execute(document, **operator_values):
    """Resolve `{{ Param }}` from defaults and operator values, then run the step's handler."""
    values = {name: spec.get("default") for name, spec in document["parameters"].items()}
    values.update(operator_values)
    for name, spec in document["parameters"].items():
        assert values[name] is not None, f"{name} has no default and was not given"
        if "allowedPattern" in spec:
            assert re.match(spec["allowedPattern"], values[name]), name
        if "allowedValues" in spec:  # SSM refuses a start whose value is not listed
            assert values[name] in spec["allowedValues"], name
    (step,) = document["mainSteps"]
    events = {key: values[ref.strip("{} ")] for key, ref in step["inputs"]["InputPayload"].items()}
    namespace = {}
    exec(compile(step["inputs"]["Script"], step["name"], "exec"), namespace)
    payload = namespace[step["inputs"]["Handler"]](events, None)
    # The document's outputs must be selectable from what the handler returned.
    for output in step["outputs"]:
        key = output["Selector"].removeprefix("$.Payload.")
        assert key in payload, output["Name"]
    return payload


def test_pause_then_resume_documents(tables, sqs):
    queue = sqs.create_queue(QueueName="jobs")["QueueUrl"]
    held(tables, "j1", "a1", "c1")

    paused = execute(
        docs.pause_creator_document(limits_table=LIMITS, role_arn=ROLE),
        CreatorId="c1",
        Reason="site pushback",
        Operator="alice",
    )
    resumed = execute(
        docs.resume_creator_document(
            limits_table=LIMITS, jobs_table=JOBS, jobs_queue_url=queue, role_arn=ROLE
        ),
        CreatorId="c1",
    )

    assert (paused["paused"], resumed["released"]) == (True, 1)
    (message,) = sqs.receive_message(QueueUrl=queue)["Messages"]
    assert json.loads(message["Body"])["jobId"] == "j1"


def test_guarded_redrive_document(sqs, cloudwatch, errors_alarm):
    urls = {name: sqs.create_queue(QueueName=name)["QueueUrl"] for name in ("jobs", "dlq", "quarantine")}
    sqs.send_message(QueueUrl=urls["dlq"], MessageBody=json.dumps({"jobId": "j1", "agentId": "a1"}))
    sqs.send_message(QueueUrl=urls["dlq"], MessageBody="not json")

    report = execute(
        docs.guarded_redrive_document(
            dlq_url=urls["dlq"],
            jobs_queue_url=urls["jobs"],
            quarantine_url=urls["quarantine"],
            errors_alarm_name=ERRORS_ALARM,
            role_arn=ROLE,
        )
    )

    assert report == {
        "status": "drained",
        "redriven": 1,
        "parked": 1,
        "quarantined": {"json_invalid": 1},
        "failed": 0,
        "handled": 2,
    }


def test_redrive_document(monkeypatch):
    class MoveTasks:
        """SQS move-task API as the handler's boto3 client (moto has no StartMessageMoveTask)."""

        def __init__(self):
            self.started = []

        def list_message_move_tasks(self, **kwargs):
            if not self.started:
                return {"Results": []}
            return {"Results": [{"Status": "COMPLETED", "ApproximateNumberOfMessagesMoved": 4}]}

        def start_message_move_task(self, **kwargs):
            self.started.append(kwargs)
            return {"TaskHandle": "h"}

    sqs = MoveTasks()
    monkeypatch.setattr(boto3, "client", lambda service, **kwargs: {"sqs": sqs}[service])

    report = execute(
        docs.redrive_dlq_document(dlq_arn="arn:dlq", jobs_queue_arn="arn:jobs", role_arn=ROLE),
        MaxPerSecond=20,
    )

    assert sqs.started == [
        {"SourceArn": "arn:dlq", "DestinationArn": "arn:jobs", "MaxNumberOfMessagesPerSecond": 20}
    ]
    assert (report["status"], report["moved"], report["failed"]) == ("COMPLETED", 4, 0)
