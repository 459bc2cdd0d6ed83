"""The agent side of `logs.upload`: POST one log file with the presigned form the backend answered.

S3's browser-style POST: the form's fields first (key, policy, signature, content type, SSE-KMS),
the file last. S3 checks the signed policy: the exact key, the size range, the content type
and the encryption fields; an expired form or an oversized file gets a 4xx. Standard library only,
so a real agent can copy it.
"""

from __future__ import annotations

import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class UploadResult:
    status: int  # HTTP status (S3 answers 204 No Content on success)
    detail: str  # the start of S3's error document, or "" on success

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class UploadRefused(ValueError):
    """The agent refuses to send what the form cannot accept (too big, empty)."""


def multipart_body(fields: dict[str, str], data: bytes, content_type: str) -> tuple[bytes, str]:
    """(body, Content-Type header) of a multipart/form-data POST with the file as the last part."""
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="agent.log"\r\n'
        f"Content-Type: {content_type}\r\n\r\n"
    )
    body = b"".join(parts) + head.encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def upload_log(form: dict[str, Any], data: bytes, *, timeout: float = 30) -> UploadResult:
    """POST `data` with a `logs.upload` answer; refuses locally what the form's limits exclude."""
    if not 1 <= len(data) <= int(form["maxBytes"]):
        raise UploadRefused(f"log of {len(data)} bytes is outside 1-{form['maxBytes']} bytes")
    body, header = multipart_body(dict(form["fields"]), data, str(form["contentType"]))
    request = urllib.request.Request(form["url"], data=body, headers={"Content-Type": header}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - the backend's URL
            return UploadResult(response.status, "")
    except urllib.error.HTTPError as err:
        return UploadResult(err.code, err.read(300).decode("utf-8", "replace"))
