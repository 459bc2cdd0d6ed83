"""logs.upload: the presigned POST's policy bounds key, size, type and encryption; the form uploads."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime

from lambdas.common.log_upload import MAX_LOG_BYTES, log_upload_form
from tests.lambdas.conftest import NOW
from tests.lambdas.helpers import ENV


def policy(form):
    return json.loads(base64.b64decode(form["fields"]["policy"]))


def test_the_policy_fixes_key_type_encryption_and_size(queues):
    form = log_upload_form("agent-1", "creator-1", NOW)
    conditions = policy(form)["conditions"]
    assert {"bucket": "byoip-test-logs"} in conditions
    assert {"key": form["key"]} in conditions
    assert {"Content-Type": "text/plain"} in conditions
    assert {"x-amz-server-side-encryption": "aws:kms"} in conditions
    assert {"x-amz-server-side-encryption-aws-kms-key-id": ENV["LOGS_KMS_KEY_ARN"]} in conditions
    assert ["content-length-range", 1, 5 * 1024 * 1024] in conditions
    assert MAX_LOG_BYTES == form["maxBytes"] == 5_242_880
    assert not any(isinstance(c, list) and c[0] == "starts-with" for c in conditions)  # no wildcard key


def test_the_form_expires_in_a_minute_not_fifteen(queues):
    before = time.time()
    form = log_upload_form("agent-1", "creator-1", NOW)
    expires = datetime.strptime(policy(form)["expiration"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert form["expiresIn"] == 60
    assert before + 58 <= expires.timestamp() <= time.time() + 60


def test_the_fields_the_agent_posts_are_the_ones_the_policy_requires(queues):
    fields = log_upload_form("agent-1", "creator-1", NOW)["fields"]
    assert fields["Content-Type"] == "text/plain"
    assert fields["x-amz-server-side-encryption"] == "aws:kms"
    assert fields["x-amz-server-side-encryption-aws-kms-key-id"] == ENV["LOGS_KMS_KEY_ARN"]
    assert {"policy", "x-amz-signature", "x-amz-credential", "x-amz-algorithm", "x-amz-date"} <= set(fields)
