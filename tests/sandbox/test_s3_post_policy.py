"""The sandbox's S3 POST policy check (moto makes none): both sides of every condition."""

from __future__ import annotations

import base64
import json

import pytest

from sandbox.s3_post_policy import PolicyViolation, check_policy

NOW = 1_795_872_600.0  # 2026-11-28T13:30:00Z


def form(conditions, expiration="2026-11-28T13:31:00Z", **fields):
    policy = base64.b64encode(
        json.dumps({"expiration": expiration, "conditions": conditions}).encode()
    ).decode()
    return {"policy": policy, **fields}


RANGE = ["content-length-range", 1, 10]


def check(fields, size=5, bucket="logs", now=NOW):
    try:
        check_policy(fields, bucket, size, now)
    except PolicyViolation as violation:
        return (violation.status, violation.code)
    return "ok"


@pytest.mark.parametrize(
    ("size", "answer"), [(0, (400, "EntityTooSmall")), (1, "ok"), (10, "ok"), (11, (400, "EntityTooLarge"))]
)
def test_content_length_range_on_both_sides(size, answer):
    assert check(form([RANGE]), size) == answer


def test_expiry_on_both_sides():
    fields = form([RANGE])
    assert check(fields, now=NOW + 60) == "ok"
    assert check(fields, now=NOW + 61) == (403, "AccessDenied")


def test_exact_fields_bucket_and_starts_with():
    conditions = [
        {"bucket": "logs"},
        {"key": "c/a/x.log"},
        {"Content-Type": "text/plain"},
        ["starts-with", "$x-meta", "ab"],
    ]
    good = form(conditions, key="c/a/x.log", **{"content-type": "text/plain", "x-meta": "abc"})
    assert check(good) == "ok"
    assert check({**good, "key": "c/b/x.log"}) == (403, "AccessDenied")
    assert check({**good, "content-type": "application/x-sh"}) == (403, "AccessDenied")
    assert check({**good, "x-meta": "ba"}) == (403, "AccessDenied")
    assert check(good, bucket="other") == (403, "AccessDenied")
    missing = dict(good)
    missing.pop("content-type")
    assert check(missing) == (403, "AccessDenied")


def test_an_undecodable_policy_is_refused():
    assert check({"policy": "not base64!"}) == (403, "AccessDenied")
