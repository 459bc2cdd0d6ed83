"""Hostile DLQ messages: deep JSON and forged byoip-* attributes, in GuardedRedrive and `dlq sample`."""

import pytest

from automation.commands.dlq import describe
from automation.scripts.guarded_redrive import MAX_REDRIVE_COUNT, REDRIVE_COUNT_ATTR, classify, redrive_count
from tests.automation.conftest import REGION
from tests.automation.test_guarded_redrive_script import drain, job, put, queues, run  # noqa: F401

DEEP = "[" * 100_000


def _with_count(value, data_type="Number"):
    return {"MessageAttributes": {REDRIVE_COUNT_ATTR: {"DataType": data_type, "StringValue": value}}}


@pytest.mark.parametrize(
    ("value", "count"),
    [
        ("0", 0),
        ("2", 2),
        (" 3 ", 3),
        ("-1000", 0),
        ("-1", 0),
        ("1.5", 0),
        ("1e3", 0),
        ("NaN", 0),
        ("", 0),
        ("٣", 0),  # a non-ASCII digit str.isdigit() accepts
        (str(MAX_REDRIVE_COUNT), MAX_REDRIVE_COUNT),
        (str(MAX_REDRIVE_COUNT + 1), MAX_REDRIVE_COUNT),
        ("9" * 5000, MAX_REDRIVE_COUNT),  # longer than int() parses by default
    ],
)
def test_redrive_count_is_clamped_to_a_whole_number_in_range(value, count):
    assert redrive_count(_with_count(value)) == count


def test_deep_json_is_classified_json_invalid():
    assert classify({"Body": DEEP}, 3) == "json_invalid"
    row = describe({"Body": DEEP, "MessageId": "m"})
    assert (row["class"], row["jobId"], row["body"]) == ("json_invalid", "-", "[" * 60)


def test_deep_json_is_parked_not_a_failed_run(sqs, cloudwatch, queues, errors_alarm, clock):  # noqa: F811
    put(sqs, queues["jobs-dlq"], DEEP)
    report = run(sqs, cloudwatch, queues, clock)
    assert (report["status"], report["parked"], report["quarantined"]) == ("drained", 1, {"json_invalid": 1})
    ((body, attributes),) = drain(sqs, queues["jobs-quarantine"])
    assert (len(body), attributes["byoip-quarantine-reason"]) == (100_000, "json_invalid")


def test_a_negative_count_buys_no_extra_redrives(sqs, cloudwatch, queues, errors_alarm, clock):  # noqa: F811
    # GIVEN a producer that stamped redrive count -1000 on its message
    put(sqs, queues["jobs-dlq"], job(1), count=-1000)
    # WHEN GuardedRedrive handles it three times (budget 3), moving it back to the DLQ in between
    for _ in range(3):
        assert run(sqs, cloudwatch, queues, clock, redrive_budget=3)["redriven"] == 1
        ((body, attributes),) = drain(sqs, queues["jobs"])
        sqs.send_message(
            QueueUrl=queues["jobs-dlq"],
            MessageBody=body,
            MessageAttributes={k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()},
        )
    # THEN the fourth run parks it, as for any message: counted 1, 2, 3 from 0, not from -1000
    report = run(sqs, cloudwatch, queues, clock, redrive_budget=3)
    assert report["quarantined"] == {"redrive_budget_exhausted": 1}


def test_forged_byoip_attributes_are_not_copied_and_the_producers_own_are(
    sqs,
    cloudwatch,
    queues,  # noqa: F811
    errors_alarm,
    clock,
):
    sqs.send_message(
        QueueUrl=queues["jobs-dlq"],
        MessageBody=job(1),
        MessageAttributes={
            "byoip-quarantine-reason": {"DataType": "String", "StringValue": "forged"},
            "byoip-source-message-id": {"DataType": "String", "StringValue": "forged"},
            "traceparent": {"DataType": "String", "StringValue": "00-abc-01"},
        },
    )
    run(sqs, cloudwatch, queues, clock)
    assert [a for _, a in drain(sqs, queues["jobs"])] == [
        {REDRIVE_COUNT_ATTR: "1", "traceparent": "00-abc-01"}
    ]


def test_dlq_sample_of_deep_json_answers_json_invalid(cli, sqs):
    url = sqs.create_queue(QueueName="byoip-t-jobs-dlq")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody=DEEP)
    result = cli("dlq", "sample", "--stage", "t", "--region", REGION)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines()[-1] == "by class: json_invalid=1"
