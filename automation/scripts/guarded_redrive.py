"""Guarded auto-redrive: transient DLQ messages back to JobsQueue, poison pills to quarantine.

Started by EventBridge when the DLQNotEmpty alarm enters ALARM (document
`BYOIP-<s>-GuardedRedrive`). Safety properties, each covered by tests:
- nothing moves while the dispatcher-errors alarm is not OK (bounded wait, re-checked per batch);
- a message is deleted from the DLQ only after its copy was written (send first, delete second);
- a message redriven `redrive_budget` times is parked, never looped again (count on the message);
- at most `max_messages` per run, at most `max_per_second` per second.
Standard library only at module level: inlined into the Automation document.
"""

import json
import time

# The alarm whose OK state the guard waits for (`byoip dlq replay` checks it too).
GUARD_ALARM_ID = "DispatcherErrors"
REDRIVE_COUNT_ATTR = "byoip-redrive-count"
QUARANTINE_REASON_ATTR = "byoip-quarantine-reason"
SOURCE_MESSAGE_ATTR = "byoip-source-message-id"

REASON_JSON = "json_invalid"
REASON_AGENT = "agent_missing"
REASON_BUDGET = "redrive_budget_exhausted"
TRANSIENT = "transient"
# The dispatcher sends these straight to the DLQ with a `reason` message attribute: never retry.
DISPATCHER_POISON = ("json_invalid", "schema_invalid", "agent_missing", "job_id_conflict")
# The ranges guarded_redrive() accepts (the document's parameters say them too); the wait stays
# below aws:executeScript's 600 s.
LIMITS = {
    "max_messages": (1, 10_000),
    "max_per_second": (1, 500),
    "redrive_budget": (1, 100),
    "max_wait_seconds": (0, 540),
    "start_delay_seconds": (0, 240),
}
# The start delay and the guard wait together stay below the step's 600 s too.
MAX_DELAY_AND_WAIT_SECONDS = 540


OWN_ATTR_PREFIX = "byoip-"
# A producer can set any message attribute, ours included: a count is read as a whole number in
# 0-MAX_REDRIVE_COUNT (a negative or malformed one counts as 0, so a message cannot buy extra
# redrives), and copies carry only the byoip-* attributes this script writes itself.
MAX_REDRIVE_COUNT = 1000


def redrive_count(message):
    """How many times this message was already redriven (0 when never), clamped to 0-MAX_REDRIVE_COUNT."""
    attribute = message.get("MessageAttributes", {}).get(REDRIVE_COUNT_ATTR, {})
    text = str(attribute.get("StringValue", "0")).strip()
    if not (text.isascii() and text.isdigit()):
        return 0
    return MAX_REDRIVE_COUNT if len(text) > 6 else min(int(text), MAX_REDRIVE_COUNT)


def classify(message, redrive_budget):
    """Reason code of one DLQ message: a poison-pill reason, or TRANSIENT."""
    marked = message.get("MessageAttributes", {}).get("reason", {}).get("StringValue")
    if marked in DISPATCHER_POISON:
        return marked
    try:
        job = json.loads(message.get("Body", ""))
    except (ValueError, RecursionError):  # deep nesting overflows the parser: still bad JSON
        return REASON_JSON
    if not isinstance(job, dict):
        return REASON_JSON
    agent_id = job.get("agentId")
    if not isinstance(agent_id, str) or not agent_id:
        return REASON_AGENT
    if redrive_count(message) >= redrive_budget:
        return REASON_BUDGET
    return TRANSIENT


def alarm_state(cloudwatch, alarm_name):
    """StateValue of one metric alarm ("OK", "ALARM", "INSUFFICIENT_DATA"), or "MISSING"."""
    alarms = cloudwatch.describe_alarms(AlarmNames=[alarm_name]).get("MetricAlarms", [])
    return alarms[0]["StateValue"] if alarms else "MISSING"


def wait_until_ok(cloudwatch, alarm_name, *, max_wait_seconds, poll_seconds, sleep, clock):
    """True once the alarm is OK; False if it is still not OK after max_wait_seconds."""
    deadline = clock() + max_wait_seconds
    while alarm_state(cloudwatch, alarm_name) != "OK":
        if clock() >= deadline:
            return False
        sleep(poll_seconds)
    return True


def _copy_attributes(message):
    """The producer's message attributes in SendMessage shape, without any byoip-* one."""
    attributes = message.get("MessageAttributes", {})
    return {name: dict(value) for name, value in attributes.items() if not name.startswith(OWN_ATTR_PREFIX)}


def _string(value):
    return {"DataType": "String", "StringValue": str(value)}


def copy_message(sqs, message, reason, *, jobs_queue_url, quarantine_url):
    """Write the message's copy: JobsQueue with count+1 when transient, else quarantine."""
    attributes = _copy_attributes(message)
    count = redrive_count(message)
    if reason == TRANSIENT:
        attributes[REDRIVE_COUNT_ATTR] = {"DataType": "Number", "StringValue": str(count + 1)}
        target = jobs_queue_url
    else:
        attributes[QUARANTINE_REASON_ATTR] = _string(reason)
        attributes[SOURCE_MESSAGE_ATTR] = _string(message["MessageId"])
        attributes[REDRIVE_COUNT_ATTR] = {"DataType": "Number", "StringValue": str(count)}
        target = quarantine_url
    sqs.send_message(QueueUrl=target, MessageBody=message["Body"], MessageAttributes=attributes)


class SendFailed(Exception):
    """The copy could not be written: the original is still in the DLQ, untouched."""


def move_message(sqs, message, reason, *, dlq_url, jobs_queue_url, quarantine_url):
    """Copy one received DLQ message where its class sends it, then delete the original.

    Send first, delete second: a failed send raises SendFailed with the original still in the DLQ
    (nothing lost); a crash or failed delete after the send leaves a duplicate, which the
    dispatcher's exactly-once assignment absorbs (it assigns each jobId once). `byoip dlq replay`
    moves with this function too: the CLI and this document share one order and one classification.
    """
    try:
        copy_message(sqs, message, reason, jobs_queue_url=jobs_queue_url, quarantine_url=quarantine_url)
    except Exception as error:
        raise SendFailed(f"{type(error).__name__}: {error}") from error
    sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=message["ReceiptHandle"])


def release(sqs, queue_url, messages):
    """Make received-but-unhandled messages visible again at once (best effort)."""
    for message in messages:
        try:
            sqs.change_message_visibility(
                QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
            )
        except Exception:  # they reappear anyway when the visibility timeout ends
            pass


def _empty_report(status):
    # `parked` totals `quarantined` (per reason) for the document's Integer output.
    return {"status": status, "redriven": 0, "parked": 0, "quarantined": {}, "failed": 0, "handled": 0}


def guarded_redrive(
    sqs,
    cloudwatch,
    *,
    dlq_url,
    jobs_queue_url,
    quarantine_url,
    errors_alarm_name,
    max_messages=100,
    max_per_second=10,
    redrive_budget=3,
    max_wait_seconds=300,
    start_delay_seconds=0,
    poll_seconds=15,
    visibility_seconds=60,
    receive_wait_seconds=1,
    sleep=time.sleep,
    clock=time.monotonic,
):
    """Run one guarded redrive and return its report (status and counts)."""
    values = {
        "max_messages": max_messages,
        "max_per_second": max_per_second,
        "redrive_budget": redrive_budget,
        "max_wait_seconds": max_wait_seconds,
        "start_delay_seconds": start_delay_seconds,
    }
    for name, (low, high) in LIMITS.items():
        value = values[name]
        if not low <= value <= high:
            raise ValueError(f"{name}={value} is outside {low}-{high}")
    if start_delay_seconds + max_wait_seconds > MAX_DELAY_AND_WAIT_SECONDS:
        raise ValueError(
            f"start_delay_seconds + max_wait_seconds = {start_delay_seconds + max_wait_seconds} "
            f"is over {MAX_DELAY_AND_WAIT_SECONDS}"
        )
    # A restart after a failed run (the redrive-failed rule) waits first: never a hot loop.
    if start_delay_seconds:
        sleep(start_delay_seconds)
    if not wait_until_ok(
        cloudwatch,
        errors_alarm_name,
        max_wait_seconds=max_wait_seconds,
        poll_seconds=poll_seconds,
        sleep=sleep,
        clock=clock,
    ):
        return _empty_report("guard_timeout")
    report = _empty_report("drained")
    started = clock()
    while True:
        if report["handled"] >= max_messages:
            report["status"] = "budget_spent"
            return report
        if alarm_state(cloudwatch, errors_alarm_name) != "OK":
            report["status"] = "guard_tripped"
            return report
        batch = sqs.receive_message(
            QueueUrl=dlq_url,
            MaxNumberOfMessages=min(10, max_messages - report["handled"]),
            MessageAttributeNames=["All"],
            VisibilityTimeout=visibility_seconds,
            WaitTimeSeconds=receive_wait_seconds,
        ).get("Messages", [])
        if not batch:
            return report
        for index, message in enumerate(batch):
            reason = classify(message, redrive_budget)
            try:
                move_message(
                    sqs,
                    message,
                    reason,
                    dlq_url=dlq_url,
                    jobs_queue_url=jobs_queue_url,
                    quarantine_url=quarantine_url,
                )
            except SendFailed as error:  # stop, keep the original, report why
                report["failed"] += 1
                report["status"] = "send_failed"
                report["error"] = str(error)
                release(sqs, dlq_url, batch[index:])
                return report
            report["handled"] += 1
            if reason == TRANSIENT:
                report["redriven"] += 1
            else:
                report["parked"] += 1
                report["quarantined"][reason] = report["quarantined"].get(reason, 0) + 1
        # Rate bound: never faster than max_per_second averaged since the start.
        ahead = report["handled"] / max_per_second - (clock() - started)
        if ahead > 0:
            sleep(ahead)


def handler(events, context):
    """aws:executeScript entry point: InputPayload in, report out."""
    import boto3

    return guarded_redrive(
        boto3.client("sqs"),
        boto3.client("cloudwatch"),
        dlq_url=events["DlqUrl"],
        jobs_queue_url=events["JobsQueueUrl"],
        quarantine_url=events["QuarantineQueueUrl"],
        errors_alarm_name=events["ErrorsAlarmName"],
        max_messages=int(events.get("MaxMessages", 100)),
        max_per_second=int(events.get("MaxPerSecond", 10)),
        redrive_budget=int(events.get("RedriveBudget", 3)),
        max_wait_seconds=int(events.get("MaxWaitSeconds", 300)),
        start_delay_seconds=int(events.get("StartDelaySeconds", 0)),
    )
