"""S3's POST policy check, which moto does not make: the sandbox's own faithful part.

moto stores whatever a browser-style POST sends. S3 first checks the form against its signed
policy: not expired, every condition met (exact fields, `starts-with`, `content-length-range`),
and refuses otherwise. `PostPolicyCheck` is WSGI middleware in front of moto doing the same, so
`logs.upload`'s limits hold in the sandbox as they do on AWS. The signature itself is not
checked (moto accepts any credentials anyway).
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import time
from calendar import timegm
from typing import Any

from werkzeug.formparser import parse_form_data

MAX_FORM_BYTES = 64 * 1024 * 1024


class PolicyViolation(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _denied(message: str) -> PolicyViolation:
    return PolicyViolation(403, "AccessDenied", f"Invalid according to Policy: {message}")


def check_policy(fields: dict[str, str], bucket: str, size: int, now: float | None = None) -> None:
    """Raise PolicyViolation unless the form (fields, target bucket, file size) meets its policy."""
    try:
        policy = json.loads(base64.b64decode(fields.get("policy", ""), validate=True))
        expires = timegm(time.strptime(policy["expiration"].split(".")[0].rstrip("Z"), "%Y-%m-%dT%H:%M:%S"))
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise _denied("Policy could not be decoded.") from None
    if (time.time() if now is None else now) > expires:
        raise _denied("Policy expired.")
    values = {name.lower(): value for name, value in fields.items()} | {"bucket": bucket}
    for condition in policy.get("conditions", []):
        if isinstance(condition, dict):
            ((name, expected),) = condition.items()
            op, name = "eq", f"${name}"
        else:
            op, name, expected = condition
        if op == "content-length-range":
            low, high = int(name), int(expected)
            if size > high:
                raise PolicyViolation(
                    400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size"
                )
            if size < low:
                raise PolicyViolation(
                    400, "EntityTooSmall", "Your proposed upload is smaller than the minimum"
                )
            continue
        actual = values.get(name.lstrip("$").lower())
        if actual is None or not (actual == expected if op == "eq" else actual.startswith(expected)):
            raise _denied(f'Policy Condition failed: ["{op}", "{name}", "{expected}"]')


def _error(status: int, code: str, message: str, start_response: Any) -> list[bytes]:
    body = f"<Error><Code>{code}</Code><Message>{message}</Message></Error>".encode()
    reason = {400: "Bad Request", 403: "Forbidden"}[status]
    start_response(
        f"{status} {reason}", [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))]
    )
    return [body]


class PostPolicyCheck:
    """WSGI middleware: S3 form uploads (POST multipart/form-data with a policy) are checked first."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        is_form = environ.get("CONTENT_TYPE", "").startswith("multipart/form-data")
        if environ.get("REQUEST_METHOD") != "POST" or not is_form:
            return self.app(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(min(length, MAX_FORM_BYTES))
        environ["wsgi.input"] = io.BytesIO(body)
        copy = {**environ, "wsgi.input": io.BytesIO(body)}
        _stream, form, files = parse_form_data(copy)
        if "policy" not in form or "file" not in files:
            return self.app(environ, start_response)
        bucket = environ.get("PATH_INFO", "/").strip("/").split("/")[0]
        size = len(files["file"].read())
        try:
            check_policy(dict(form.items()), bucket, size)
        except PolicyViolation as violation:
            return _error(violation.status, violation.code, violation.message, start_response)
        return self.app(environ, start_response)
