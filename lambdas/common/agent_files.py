"""S3 action of an agent: patch check (log uploads: log_upload.py).

The patches bucket names its current build in `latest.json`
(`{"version", "key", "sha256"?}`), so a check is one GetObject, never a listing.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from lambdas.common import aws
from lambdas.common.protocol import FrameError
from lambdas.common.settings import settings

URL_TTL_SECONDS = 900
LATEST_POINTER = "latest.json"


def patch_check(current_version: str | None) -> dict[str, Any]:
    """The latest patch version and a presigned GET of it (version null when none is published)."""
    bucket = settings().patches_bucket
    s3 = aws.client("s3")
    try:
        body = s3.get_object(Bucket=bucket, Key=LATEST_POINTER)["Body"].read()
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
            return {"type": "patch.check", "version": None, "upToDate": True}
        raise
    try:
        pointer = json.loads(body)
        version, key = str(pointer["version"]), str(pointer["key"])
    except (ValueError, KeyError, TypeError):
        raise FrameError("patch_unavailable", "the published patch pointer is unreadable") from None
    params = {"Bucket": bucket, "Key": key}
    url = s3.generate_presigned_url("get_object", Params=params, ExpiresIn=URL_TTL_SECONDS)
    return {
        "type": "patch.check",
        "version": version,
        "url": url,
        "sha256": pointer.get("sha256"),
        "expiresIn": URL_TTL_SECONDS,
        "upToDate": current_version == version,
    }
