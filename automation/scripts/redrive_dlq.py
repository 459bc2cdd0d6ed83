"""Redrive a DLQ back to its source queue with SQS StartMessageMoveTask.

Inlined verbatim into the `BYOIP-<s>-RedriveDlq` SSM Automation document (aws:executeScript),
imported by the `byoip redrive` CLI. Only the standard library at module level: the Automation
runtime has boto3, but nothing of this repo.
"""

import time

MIN_RATE = 1
MAX_RATE = 500
DEFAULT_RATE = 50
_ACTIVE = ("RUNNING", "CANCELLING")


class RedriveRefused(RuntimeError):
    """The redrive must not start (bad rate, or another move task is still active)."""


def check_rate(max_per_second):
    """Return the rate as int, or raise RedriveRefused naming the allowed range."""
    rate = int(max_per_second)
    if not MIN_RATE <= rate <= MAX_RATE:
        raise RedriveRefused(f"max rate {rate} is outside {MIN_RATE}-{MAX_RATE} messages per second")
    return rate


def latest_task(sqs, source_arn):
    """Most recent move task of this source queue, or None."""
    results = sqs.list_message_move_tasks(SourceArn=source_arn, MaxResults=1).get("Results", [])
    return results[0] if results else None


def start_redrive(sqs, *, source_arn, destination_arn, max_per_second=DEFAULT_RATE):
    """Start one move task; refuse while another one is active on the same source."""
    rate = check_rate(max_per_second)
    current = latest_task(sqs, source_arn)
    if current and current.get("Status") in _ACTIVE:
        raise RedriveRefused(
            f"a move task is already {current['Status']} on {source_arn}; wait for it or cancel it first"
        )
    response = sqs.start_message_move_task(
        SourceArn=source_arn, DestinationArn=destination_arn, MaxNumberOfMessagesPerSecond=rate
    )
    return response["TaskHandle"]


def task_report(task, task_handle):
    """Moved/failed counts of a finished or running task, as plain data."""
    moved = int(task.get("ApproximateNumberOfMessagesMoved", 0))
    to_move = int(task.get("ApproximateNumberOfMessagesToMove", moved))
    status = task.get("Status", "UNKNOWN")
    # A task that did not complete leaves the rest in the DLQ: those are the failed ones.
    failed = 0 if status in ("COMPLETED", "RUNNING") else max(0, to_move - moved)
    return {
        "taskHandle": task_handle,
        "status": status,
        "moved": moved,
        "toMove": to_move,
        "failed": failed,
        "failureReason": task.get("FailureReason", ""),
    }


def wait_for_task(
    sqs,
    *,
    source_arn,
    task_handle,
    poll_seconds=5.0,
    timeout_seconds=540.0,
    on_progress=None,
    sleep=time.sleep,
    clock=time.monotonic,
):
    """Poll the source's latest move task until it leaves RUNNING or the timeout passes."""
    deadline = clock() + timeout_seconds
    while True:
        task = latest_task(sqs, source_arn) or {"Status": "UNKNOWN"}
        report = task_report(task, task_handle)
        if on_progress is not None:
            on_progress(report)
        if task.get("Status") not in _ACTIVE:
            return report
        if clock() >= deadline:
            report["status"] = "TIMED_OUT_WAITING"
            return report
        sleep(poll_seconds)


def redrive_dlq(sqs, *, source_arn, destination_arn, max_per_second=DEFAULT_RATE, wait=True, **wait_kwargs):
    """Start a move task from the DLQ to the destination and (optionally) wait for its counts."""
    handle = start_redrive(
        sqs, source_arn=source_arn, destination_arn=destination_arn, max_per_second=max_per_second
    )
    if not wait:
        return {"taskHandle": handle, "status": "RUNNING", "moved": 0, "toMove": 0, "failed": 0}
    return wait_for_task(sqs, source_arn=source_arn, task_handle=handle, **wait_kwargs)


def handler(events, context):
    """aws:executeScript entry point: InputPayload in, report out."""
    import boto3

    return redrive_dlq(
        boto3.client("sqs"),
        source_arn=events["SourceArn"],
        destination_arn=events["DestinationArn"],
        max_per_second=int(events.get("MaxPerSecond", DEFAULT_RATE)),
        wait=str(events.get("Wait", "true")).lower() == "true",
    )
