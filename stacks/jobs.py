"""The job queues: JobsQueue, its DLQ (redrivable back to it) and the poison-pill quarantine."""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from contract.names import DLQ, JOBS, QUARANTINE, Names
from contract.sizes import JOBS_VISIBILITY_S
from stacks.nag import acknowledge

VISIBILITY_TIMEOUT = Duration.seconds(JOBS_VISIBILITY_S)  # contract/sizes.py says why
MAX_RECEIVE_COUNT = 5
SOURCE_RETENTION = Duration.days(4)
# Longer than the source's, so a message never expires in the DLQ sooner than it would have upstream.
DLQ_RETENTION = Duration.days(14)
QUARANTINE_REASON = (
    "Quarantine is the terminal store for poison pills moved out of the DLQ by the guarded redrive; "
    "nothing consumes it automatically, so it has no DLQ of its own and denies being one."
)


def _queue(scope: Construct, cid: str, name: str, **kwargs: object) -> sqs.Queue:
    return sqs.Queue(
        scope,
        cid,
        queue_name=name,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        **kwargs,  # type: ignore[arg-type]
    )


class JobQueues(Construct):
    """`<prefix>-jobs`, `<prefix>-jobs-dlq` and `<prefix>-jobs-quarantine`."""

    def __init__(self, scope: Construct, cid: str, *, names: Names) -> None:
        super().__init__(scope, cid)
        jobs_name = names.queue(JOBS)
        # The DLQ names the source queue by ARN, not by object: the object would make the
        # DLQ depend on the queue that depends on it (cfn-lint E3004, circular dependency).
        jobs_arn = Stack.of(self).format_arn(service="sqs", resource=jobs_name)
        self.dlq = _queue(
            self,
            "JobsDlq",
            names.queue(DLQ),
            retention_period=DLQ_RETENTION,
            redrive_allow_policy=sqs.RedriveAllowPolicy(
                redrive_permission=sqs.RedrivePermission.BY_QUEUE,
                source_queues=[sqs.Queue.from_queue_arn(self, "JobsQueueByArn", jobs_arn)],
            ),
        )
        self.jobs_queue = _queue(
            self,
            "JobsQueue",
            jobs_name,
            visibility_timeout=VISIBILITY_TIMEOUT,
            retention_period=SOURCE_RETENTION,
            dead_letter_queue=sqs.DeadLetterQueue(queue=self.dlq, max_receive_count=MAX_RECEIVE_COUNT),
        )
        # Terminal store for poison pills (bad JSON, no agentId, ...) that the guarded redrive
        # moves out of the DLQ instead of redriving them: nothing consumes it automatically.
        self.quarantine_queue = _queue(
            self,
            "JobsQuarantine",
            names.queue(QUARANTINE),
            retention_period=DLQ_RETENTION,
            redrive_allow_policy=sqs.RedriveAllowPolicy(redrive_permission=sqs.RedrivePermission.DENY_ALL),
        )
        acknowledge(self.quarantine_queue, "SQS3", QUARANTINE_REASON)
