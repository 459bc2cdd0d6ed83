"""`logs.upload`: a presigned POST form for one new log object under the caller's own prefix.

A POST policy, unlike a presigned PUT, bounds what the agent may send: the exact key, a size
range, the content type, and SSE-KMS with the stack's key (the bucket policy also refuses any
PutObject that does not name that key). It expires in a minute: the agent uploads at once.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from lambdas.common import aws
from lambdas.common.settings import settings

UPLOAD_TTL_SECONDS = 60
MAX_LOG_BYTES = 5 * 1024 * 1024  # a support bundle of one device's recent logs; larger is not a log
LOG_CONTENT_TYPE = "text/plain"


def log_upload_form(agent_id: str, creator_id: str, now: int) -> dict[str, Any]:
    """The `logs.upload` answer: `{"type","url","fields","key","maxBytes","contentType","expiresIn"}`."""
    stamp = datetime.fromtimestamp(now, UTC).strftime("%Y/%m/%d/%H%M%S")
    key = f"{creator_id}/{agent_id}/{stamp}-{uuid.uuid4().hex[:12]}.log"
    fixed = {
        "Content-Type": LOG_CONTENT_TYPE,
        "x-amz-server-side-encryption": "aws:kms",
        "x-amz-server-side-encryption-aws-kms-key-id": settings().logs_kms_key_arn,
    }
    post = aws.client("s3").generate_presigned_post(
        settings().logs_bucket,
        key,
        Fields=fixed,
        Conditions=[{name: value} for name, value in fixed.items()]
        + [["content-length-range", 1, MAX_LOG_BYTES]],
        ExpiresIn=UPLOAD_TTL_SECONDS,
    )
    return {
        "type": "logs.upload",
        "url": post["url"],
        "fields": post["fields"],
        "key": key,
        "maxBytes": MAX_LOG_BYTES,
        "contentType": LOG_CONTENT_TYPE,
        "expiresIn": UPLOAD_TTL_SECONDS,
    }
