"""Grants no recorded call uses, each kept for a stated reason (stage-free: `S` is the stage, `R`/`A`
the region and account). tests/iam/session.py fails the whole-suite run on an unused grant missing
here, and on a reason left here after its grant is used or removed. Each reason names why no call
of ours can use the grant: AWS uses it for us, or uses it as a side condition of another call."""

from __future__ import annotations

LAMBDA_LOGS = "Lambda's runtime writes the function's logs with its role; no handler calls CloudWatch Logs"
XRAY = "active tracing: Lambda's runtime sends the trace segments with the role; no handler calls X-Ray"
ESM = "the SQS event source mapping polls with the dispatcher's role; the sandbox's poller is not recorded"
_FUNCTIONS = (
    "ws-connect",
    "ws-message",
    "ws-disconnect",
    "dispatcher-sqs",
    "lease-reaper",
    "secret-rotation",
    "probe",
)
_GROUP = "arn:aws:logs:R:A:log-group:/aws/lambda/byoip-S-{}:*"
_ESM = ("ReceiveMessage", "DeleteMessage", "GetQueueAttributes")
NO_SUCH_KEY = (
    "without s3:ListBucket S3 answers a GetObject of a missing key with 403, not 404: patch.check reads"
    " NoSuchKey as 'no patch published' (tests/lambdas/test_patch_check.py); IAM grants it, no call names it"
)
JUSTIFIED: dict[tuple[str, str, str], str] = {
    ("function:byoip-S-ws-message", "s3:ListBucket", "arn:aws:s3:::byoip-S-patches"): NO_SUCH_KEY,
    **{
        (f"function:byoip-S-{f}", f"logs:{a}", _GROUP.format(f)): LAMBDA_LOGS
        for f in _FUNCTIONS
        for a in ("CreateLogStream", "PutLogEvents")
    },
    **{
        (f"function:byoip-S-{f}", f"xray:{a}", "*"): XRAY
        for f in _FUNCTIONS
        for a in ("PutTraceSegments", "PutTelemetryRecords")
    },
    **{("function:byoip-S-dispatcher-sqs", f"sqs:{a}", "arn:aws:sqs:R:A:byoip-S-jobs"): ESM for a in _ESM},
}
