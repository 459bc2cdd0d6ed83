"""S3 action of an agent: patch check (log uploads: log_upload.py).

The patches bucket names its current build in the signed manifest `patches/latest.json`
(lambdas/common/patch_manifest.py), so a check is one GetObject, never a listing.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from botocore.exceptions import ClientError

from lambdas.common import aws
from lambdas.common.patch_manifest import LATEST_POINTER, MAX_MANIFEST_BYTES, ManifestInvalid, parse_manifest
from lambdas.common.protocol import FrameError
from lambdas.common.settings import settings

URL_TTL_SECONDS = 900


def patch_check(current_version: str | None) -> dict[str, Any]:
    """The signed manifest of the latest patch and a presigned GET (version null when none is published).

    A manifest that is unreadable or lacks a field is never handed out, not even in part: the
    agent gets one `patch_unavailable` error and the log line names the reason and field.
    """
    bucket = settings().patches_bucket
    s3 = aws.client("s3")
    try:
        body = s3.get_object(Bucket=bucket, Key=LATEST_POINTER)["Body"].read(MAX_MANIFEST_BYTES + 1)
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
            return {"type": "patch.check", "version": None, "upToDate": True}
        raise
    try:
        manifest = parse_manifest(body)
    except ManifestInvalid as err:
        message = "the published patch manifest is invalid; an operator must republish it"
        raise FrameError("patch_unavailable", message, detail=f"{err} pointer={LATEST_POINTER}") from None
    params = {"Bucket": bucket, "Key": manifest.key}
    url = s3.generate_presigned_url("get_object", Params=params, ExpiresIn=URL_TTL_SECONDS)
    return {
        "type": "patch.check",
        **asdict(manifest),
        "url": url,
        "expiresIn": URL_TTL_SECONDS,
        "upToDate": current_version == manifest.version,
    }
