"""One dispatcher invocation: per-record outcome → log line + counters; one EMF line at the end.

Every failed or dead-lettered item logs exactly one line whose message is
`batch_item_failed jobId=<id> reason=<code> status=<http>` (the spec's metric filter and
Logs Insights queries match it); held and skipped items log `job_held` / `job_skipped`,
delivered ones `job_assigned` (the one line of every job: its jobId is the key, not repeated in
the text). Every line about a record carries `jobId`, and `correlation_id` when the producer sent a
`traceId` (job_message.job_keys), as keys.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from lambdas.common import clock, ddb, metrics
from lambdas.common.dispatch import ItemFailure, Outcome, dispatch
from lambdas.common.job_message import JOB_KEYS, job_keys, trace_id_of
from lambdas.common.reserved import is_probe
from lambdas.common.settings import settings

_TRANSACTION_THROTTLES = {"ThrottlingError", "TransactionConflict", "ProvisionedThroughputExceeded"}


def _field_hint(body: str | None, name: str) -> str:
    """Best-effort string field of a raw body ("-" when unreadable)."""
    try:
        data = json.loads(body or "")
        value = data.get(name) if isinstance(data, dict) else None
    except (ValueError, RecursionError):
        return "-"
    return value if isinstance(value, str) and value else "-"


def job_id_hint(body: str | None) -> str:
    """Best-effort job id of a raw body, for log lines of items that failed unexpectedly."""
    return _field_hint(body, "jobId")


def classify(err: Exception) -> tuple[str, int]:
    """Reason code and HTTP-like status of an unexpected AWS error."""
    if isinstance(err, ClientError):
        code = ddb.error_code(err)
        reasons = ddb.cancellation_reasons(err) or []
        if code in ddb.THROTTLE_CODES or any(r.get("Code") in _TRANSACTION_THROTTLES for r in reasons):
            return "throttled", 429
    return "internal_error", 500


def on_time(sent_timestamp_ms: str | int | None, now: int, deadline_s: int) -> bool:
    """Whether a delivery at `now` is within `deadline_s` of the message being queued.

    A record without a readable SentTimestamp counts as late: the SLI never flatters itself.
    """
    try:
        sent_s = int(sent_timestamp_ms) / 1000  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    return now - sent_s <= deadline_s


class BatchRun:
    """Handles the records of one invocation and accounts for them."""

    def __init__(self, logger: Any) -> None:
        self.logger = logger
        self.counters = metrics.Counters()
        for name in (metrics.BATCH_ITEMS, metrics.BATCH_ITEM_FAILURES):
            self.counters.add(metrics.DISPATCHER, name, 0)  # one datapoint each, even when zero

    def handle(self, body: str | None, sent_timestamp_ms: str | int | None = None) -> Outcome:
        """Process one record body; raise to report it in batchItemFailures.

        `sent_timestamp_ms` is the record's SQS `SentTimestamp` (when the message was queued);
        it decides whether a delivery counts as on time for the time-to-assign SLI.
        """
        # The black-box probe's jobs are logged like any other but counted nowhere: they are no
        # creator's work, and the probe records its own outcome (ProbeSuccess).
        creator = _field_hint(body, "creatorId")
        counters = metrics.Counters() if is_probe(creator) else self.counters
        counters.add(metrics.DISPATCHER, metrics.BATCH_ITEMS)
        self._correlate(body)
        try:
            return self._handle(body, sent_timestamp_ms, counters, creator)
        finally:
            self.logger.remove_keys(list(JOB_KEYS))  # the next record is another job

    def _correlate(self, body: str | None) -> None:
        """Tag the record's log lines with its jobId and correlation id (the producer's traceId;
        none when it sent none); the keys are our `jobId` and Powertools' `correlation_id`."""
        job_id = job_id_hint(body)
        if job_id != "-":
            self.logger.append_keys(**job_keys(job_id, trace_id_of(_field_hint(body, "traceId"))))

    def _handle(
        self, body: str | None, sent_timestamp_ms: str | int | None, counters: metrics.Counters, creator: str
    ) -> Outcome:
        now = clock.now()
        try:
            outcome = dispatch(body, now=now)
        except ItemFailure as failure:
            counters.add(metrics.DISPATCHER, metrics.ASSIGN_ATTEMPTS)
            self._failed(counters, failure.job_id, failure.reason, failure.status)
            raise
        except Exception as err:
            counters.add(metrics.DISPATCHER, metrics.ASSIGN_ATTEMPTS)
            reason, status = classify(err)
            self._failed(counters, job_id_hint(body), reason, status, exc_info=reason == "internal_error")
            raise
        if outcome.kind == "delivered":
            counters.add(metrics.DISPATCHER, metrics.ASSIGN_ATTEMPTS)
            if on_time(sent_timestamp_ms, now, settings().assign_deadline_seconds):
                counters.add(metrics.DISPATCHER, metrics.ASSIGNED_ON_TIME)
        self._account(counters, outcome, creator)
        return outcome

    def _account(self, counters: metrics.Counters, outcome: Outcome, creator: str) -> None:
        fields = {"jobId": outcome.job_id, "reason": outcome.reason, "status": outcome.status}
        line = f"jobId={outcome.job_id} reason={outcome.reason} status={outcome.status}"
        if outcome.kind == "delivered":
            counters.add(metrics.BYOIP, metrics.JOBS_ASSIGNED)
            self.logger.info("job_assigned", extra={"jobId": outcome.job_id})
        elif outcome.kind == "held":
            counters.add(metrics.BYOIP, metrics.JOBS_HELD)
            self.logger.info(f"job_held {line}", extra={**fields, "creatorId": creator})
        elif outcome.kind == "skipped":
            self.logger.info(f"job_skipped {line}", extra=fields)
        else:  # dead-lettered: a failed item even though SQS is told it succeeded
            counters.add(metrics.BYOIP, metrics.JOBS_FAILED)
            self._failed(counters, outcome.job_id, outcome.reason or "schema_invalid", outcome.status or 400)

    def _failed(
        self, counters: metrics.Counters, job_id: str, reason: str, status: int, *, exc_info: bool = False
    ) -> None:
        counters.add(metrics.DISPATCHER, metrics.BATCH_ITEM_FAILURES)
        self.logger.warning(
            f"batch_item_failed jobId={job_id} reason={reason} status={status}",
            extra={"jobId": job_id, "reason": reason, "status": status},
            exc_info=exc_info,
        )

    def flush(self) -> None:
        """Emit the invocation's EMF line."""
        self.counters.flush(settings().stage, clock.now() * 1000)
