"""dispatcher-sqs: push each queued job to its agent; partial batch failures, EMF metrics."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from lambdas.common.batch import BatchRun
from lambdas.common.logs import function_logger
from lambdas.common.tracing import traced

logger = function_logger()
# A batch whose every record failed still answers with batchItemFailures, not a function error.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


@traced
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    run = BatchRun(logger)

    def record_handler(record: SQSRecord) -> None:
        run.handle(record.body, record.attributes.sent_timestamp)

    try:
        response = process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
        return dict(response)
    finally:
        run.flush()
