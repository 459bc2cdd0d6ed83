"""GuardedRedrive script against moto: guard, classification, budget, rate and no loss."""

import json

import pytest

from automation.scripts.guarded_redrive import REDRIVE_COUNT_ATTR, guarded_redrive
from tests.automation.conftest import ERRORS_ALARM as ALARM


@pytest.fixture
def queues(sqs):
    return {
        name: sqs.create_queue(QueueName=f"byoip-test-{name}")["QueueUrl"]
        for name in ("jobs", "jobs-dlq", "jobs-quarantine")
    }


def job(n, **overrides):
    body = {
        "jobId": f"j{n}",
        "agentId": f"a{n}",
        "creatorId": "c1",
        "kind": "k",
        "payload": {},
        "critical": False,
    }
    body.update(overrides)
    return json.dumps(body)


def put(sqs, url, body, count=None):
    attributes = {}
    if count is not None:
        attributes[REDRIVE_COUNT_ATTR] = {"DataType": "Number", "StringValue": str(count)}
    sqs.send_message(QueueUrl=url, MessageBody=body, MessageAttributes=attributes)


def drain(sqs, url):
    """Every message of a queue as (body, attributes), consumed."""
    out = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"])
        if not got.get("Messages"):
            return out
        for message in got["Messages"]:
            attrs = {k: v["StringValue"] for k, v in message.get("MessageAttributes", {}).items()}
            out.append((message["Body"], attrs))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def run(sqs, cloudwatch, queues, clock, **kwargs):
    options = {"sleep": clock.sleep, "clock": clock, "receive_wait_seconds": 0, **kwargs}
    return guarded_redrive(
        sqs,
        cloudwatch,
        dlq_url=queues["jobs-dlq"],
        jobs_queue_url=queues["jobs"],
        quarantine_url=queues["jobs-quarantine"],
        errors_alarm_name=ALARM,
        **options,
    )


def test_transient_redriven_and_poison_pills_parked(sqs, cloudwatch, queues, errors_alarm, clock):
    # GIVEN two transient jobs (one already redriven once), and three poison pills
    dlq = queues["jobs-dlq"]
    put(sqs, dlq, job(1))
    put(sqs, dlq, job(2), count=1)
    put(sqs, dlq, "{not json")
    put(sqs, dlq, job(3, agentId=""))
    put(sqs, dlq, job(4), count=3)

    # WHEN
    report = run(sqs, cloudwatch, queues, clock, redrive_budget=3)

    # THEN
    assert report == {
        "status": "drained",
        "redriven": 2,
        "failed": 0,
        "handled": 5,
        "parked": 3,
        "quarantined": {"json_invalid": 1, "agent_missing": 1, "redrive_budget_exhausted": 1},
    }
    assert sorted((json.loads(b)["jobId"], a[REDRIVE_COUNT_ATTR]) for b, a in drain(sqs, queues["jobs"])) == [
        ("j1", "1"),
        ("j2", "2"),
    ]
    parked = {
        a["byoip-quarantine-reason"]: (b, a[REDRIVE_COUNT_ATTR])
        for b, a in drain(sqs, queues["jobs-quarantine"])
    }
    assert parked == {
        "json_invalid": ("{not json", "0"),
        "agent_missing": (job(3, agentId=""), "0"),
        "redrive_budget_exhausted": (job(4), "3"),
    }
    assert drain(sqs, dlq) == []


@pytest.mark.parametrize("reason", ["schema_invalid", "job_id_conflict"])
def test_messages_the_dispatcher_marked_as_poison_are_parked(
    reason, sqs, cloudwatch, queues, errors_alarm, clock
):
    # A well-formed job body: only the dispatcher's mark says it can never succeed (a job id
    # conflict would come back as a conflict on every redrive).
    sqs.send_message(
        QueueUrl=queues["jobs-dlq"],
        MessageBody=job(1),
        MessageAttributes={"reason": {"DataType": "String", "StringValue": reason}},
    )

    report = run(sqs, cloudwatch, queues, clock)

    assert (report["redriven"], report["quarantined"]) == (0, {reason: 1})
    assert [a["reason"] for _, a in drain(sqs, queues["jobs-quarantine"])] == [reason]


def test_no_redrive_while_errors_alarm_is_in_alarm(sqs, cloudwatch, queues, errors_alarm, clock):
    errors_alarm("ALARM")
    put(sqs, queues["jobs-dlq"], job(1))

    report = run(sqs, cloudwatch, queues, clock, max_wait_seconds=60, poll_seconds=15)

    assert report["status"] == "guard_timeout"
    assert report["handled"] == 0
    assert clock.sleeps == [15, 15, 15, 15]
    assert [b for b, _ in drain(sqs, queues["jobs-dlq"])] == [job(1)]
    assert drain(sqs, queues["jobs"]) == []


def test_guard_waits_for_ok_then_redrives(sqs, cloudwatch, queues, errors_alarm, clock):
    errors_alarm("ALARM")
    put(sqs, queues["jobs-dlq"], job(1))

    def sleep(seconds):
        clock.sleep(seconds)
        errors_alarm("OK")  # the errors alarm recovers during the first wait

    report = run(sqs, cloudwatch, queues, clock, sleep=sleep)

    assert (report["status"], report["redriven"]) == ("drained", 1)


def test_stops_when_errors_alarm_fires_mid_run(sqs, cloudwatch, queues, errors_alarm, clock):
    for n in range(15):
        put(sqs, queues["jobs-dlq"], job(n))

    class TripAfterFirstBatch:
        """Cloudwatch client whose alarm goes to ALARM after the second state read."""

        calls = 0

        def describe_alarms(self, **kwargs):
            self.calls += 1
            if self.calls == 3:
                errors_alarm("ALARM")
            return cloudwatch.describe_alarms(**kwargs)

    report = run(sqs, TripAfterFirstBatch(), queues, clock)

    assert (report["status"], report["redriven"]) == ("guard_tripped", 10)
    assert len(drain(sqs, queues["jobs-dlq"])) == 5


def test_send_failure_midway_loses_nothing(sqs, cloudwatch, queues, errors_alarm, clock):
    # GIVEN 6 jobs and a JobsQueue that rejects the third write
    for n in range(6):
        put(sqs, queues["jobs-dlq"], job(n))

    class FlakySqs:
        def __init__(self):
            self.sends = 0

        def __getattr__(self, name):
            return getattr(sqs, name)

        def send_message(self, **kwargs):
            self.sends += 1
            if self.sends == 3:
                raise ConnectionError("network went away")
            return sqs.send_message(**kwargs)

    # WHEN
    report = run(FlakySqs(), cloudwatch, queues, clock, visibility_seconds=300)

    # THEN two were moved, the run stopped, the other four are visible in the DLQ again
    assert report["status"] == "send_failed"
    assert (report["redriven"], report["failed"]) == (2, 1)
    assert report["error"] == "ConnectionError: network went away"
    moved = {json.loads(b)["jobId"] for b, _ in drain(sqs, queues["jobs"])}
    left = {json.loads(b)["jobId"] for b, _ in drain(sqs, queues["jobs-dlq"])}
    assert len(moved) == 2 and len(left) == 4
    assert moved | left == {f"j{n}" for n in range(6)}


def test_budget_per_run_is_respected(sqs, cloudwatch, queues, errors_alarm, clock):
    for n in range(25):
        put(sqs, queues["jobs-dlq"], job(n))

    report = run(sqs, cloudwatch, queues, clock, max_messages=12, max_per_second=500)

    assert (report["status"], report["handled"]) == ("budget_spent", 12)
    assert len(drain(sqs, queues["jobs"])) == 12
    assert len(drain(sqs, queues["jobs-dlq"])) == 13


def test_rate_is_bounded(sqs, cloudwatch, queues, errors_alarm, clock):
    for n in range(20):
        put(sqs, queues["jobs-dlq"], job(n))

    report = run(sqs, cloudwatch, queues, clock, max_per_second=5)

    assert report["redriven"] == 20
    # 20 messages at 5/s take at least 4 s of (fake) time; the clock only moves on sleeps
    assert clock.now == pytest.approx(4.0)


def test_a_failing_job_is_parked_after_its_budget_never_looped(sqs, cloudwatch, queues, errors_alarm, clock):
    # GIVEN a job that fails every time it is dispatched (JobsQueue -> DLQ by the redrive policy)
    put(sqs, queues["jobs-dlq"], job(7))
    outcomes = []
    for _ in range(6):
        outcomes.append(run(sqs, cloudwatch, queues, clock, redrive_budget=3))
        for body, attrs in drain(sqs, queues["jobs"]):
            put(sqs, queues["jobs-dlq"], body, count=attrs[REDRIVE_COUNT_ATTR])

    assert [o["redriven"] for o in outcomes] == [1, 1, 1, 0, 0, 0]
    assert outcomes[3]["quarantined"] == {"redrive_budget_exhausted": 1}
    assert [a["byoip-quarantine-reason"] for _, a in drain(sqs, queues["jobs-quarantine"])] == [
        "redrive_budget_exhausted"
    ]


def test_a_missing_guard_alarm_means_no_redrive(sqs, cloudwatch, queues, clock):
    put(sqs, queues["jobs-dlq"], job(1))

    report = run(sqs, cloudwatch, queues, clock, max_wait_seconds=30, poll_seconds=15)

    assert (report["status"], report["handled"]) == ("guard_timeout", 0)


@pytest.mark.parametrize(
    "option, value, message",
    [
        ("max_per_second", 0, "max_per_second=0 is outside 1-500"),
        ("max_messages", 0, "max_messages=0 is outside 1-10000"),
        ("redrive_budget", 0, "redrive_budget=0 is outside 1-100"),
        ("max_wait_seconds", 600, "max_wait_seconds=600 is outside 0-540"),
        ("start_delay_seconds", 241, "start_delay_seconds=241 is outside 0-240"),
    ],
)
def test_out_of_range_options_are_refused_before_anything_moves(
    sqs, cloudwatch, queues, clock, option, value, message
):
    with pytest.raises(ValueError, match=message):
        run(sqs, cloudwatch, queues, clock, **{option: value})


def test_a_restart_waits_its_start_delay_before_anything_else(sqs, cloudwatch, queues, errors_alarm, clock):
    # The redrive-failed rule restarts a failed run with StartDelaySeconds=240: never a hot loop.
    put(sqs, queues["jobs-dlq"], job(1))

    report = run(sqs, cloudwatch, queues, clock, start_delay_seconds=240, max_wait_seconds=240)

    assert (report["status"], report["redriven"]) == ("drained", 1)
    assert clock.sleeps[0] == 240


def test_start_delay_and_guard_wait_stay_under_the_steps_timeout(sqs, cloudwatch, queues, clock):
    with pytest.raises(ValueError, match=r"start_delay_seconds \+ max_wait_seconds = 541 is over 540"):
        run(sqs, cloudwatch, queues, clock, start_delay_seconds=240, max_wait_seconds=301)
