"""patch.check hands out only a complete signed manifest; patch.rejected is logged and counted."""

from __future__ import annotations

import base64
import json
from urllib.parse import urlparse

import boto3
import pytest

from lambdas.common.metrics import CONNECT_OUTCOMES
from lambdas.common.patch_manifest import LATEST_POINTER
from lambdas.ws_message.handler import handler as message
from tests.lambdas import helpers as h

OK = {"statusCode": 200}
MANIFEST = {
    "version": "1.5.0",
    "key": "patches/1.5.0/agent.zip",
    "size": 3,
    "sha256": "a" * 64,
    "signature": base64.b64encode(b"\x30" * 70).decode(),
    "keyId": "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    "signingAlgorithm": "ECDSA_SHA_256",
}


def send(body: dict) -> dict:
    before = len(h.frames("conn-1"))
    assert message(h.message_event(body, "conn-1"), None) == OK
    replies = h.frames("conn-1")[before:]
    assert len(replies) == 1
    return replies[0]


def publish(manifest: dict | str | bytes) -> None:
    body = manifest if isinstance(manifest, str | bytes) else json.dumps(manifest)
    s3 = boto3.client("s3", region_name=h.REGION)
    s3.put_object(Bucket=h.ENV["PATCHES_BUCKET"], Key=LATEST_POINTER, Body=body)


def test_no_manifest_means_no_patch(online, clock, out):
    assert send({"action": "patch.check"}) == {"type": "patch.check", "version": None, "upToDate": True}


def test_a_complete_manifest_is_handed_out_whole_with_a_presigned_get(online, clock, out):
    publish(MANIFEST)
    reply = send({"action": "patch.check", "version": "1.4.2"})
    url = reply.pop("url")
    assert reply == {"type": "patch.check", **MANIFEST, "expiresIn": 900, "upToDate": False}
    assert urlparse(url).path.endswith("/patches/1.5.0/agent.zip")
    assert "X-Amz-Signature=" in urlparse(url).query
    assert send({"action": "patch.check", "version": "1.5.0"})["upToDate"] is True


@pytest.mark.parametrize("field", sorted(MANIFEST))
def test_a_manifest_missing_any_field_gets_one_error_and_a_log_line(field, online, clock, out):
    publish({k: v for k, v in MANIFEST.items() if k != field})
    reply = send({"action": "patch.check", "version": "1.4.2"})
    assert reply == {
        "type": "error",
        "code": "patch_unavailable",
        "message": "the published patch manifest is invalid; an operator must republish it",
    }
    detail = f"reason=field_missing field={field} pointer={LATEST_POINTER}"
    assert f"ws_message_rejected code=patch_unavailable {detail}" in out.messages()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"version": "1.5.0\n"}, "version"),
        ({"version": "../1"}, "version"),
        ({"key": "latest.json"}, "key"),
        ({"key": "patches/../secrets"}, "key"),
        ({"key": LATEST_POINTER}, "key"),
        ({"size": 0}, "size"),
        ({"size": True}, "size"),
        ({"size": "3"}, "size"),
        ({"size": 512 * 1024 * 1024 + 1}, "size"),
        ({"sha256": "A" * 64}, "sha256"),
        ({"sha256": "a" * 63}, "sha256"),
        ({"signature": "not base64!"}, "signature"),
        ({"signature": base64.b64encode(b"\x30" * 81).decode()}, "signature"),
        ({"signature": ""}, "signature"),
        ({"keyId": 7}, "keyId"),
        ({"signingAlgorithm": "RSASSA_PSS_SHA_256"}, "signingAlgorithm"),
    ],
)
def test_a_malformed_field_is_named(change, field, online, clock, out):
    publish({**MANIFEST, **change})
    assert send({"action": "patch.check"})["code"] == "patch_unavailable"
    assert any(f"reason=field_invalid field={field} " in m for m in out.messages())


def test_the_boundaries_of_size_and_signature_are_accepted(online, clock, out):
    edge = {**MANIFEST, "size": 512 * 1024 * 1024, "signature": base64.b64encode(b"\x30" * 80).decode()}
    publish(edge)
    assert send({"action": "patch.check"})["size"] == 512 * 1024 * 1024


@pytest.mark.parametrize(
    ("body", "reason"), [("{not json", "json_invalid"), ("[1]", "json_invalid"), ("[" * 5000, "json_invalid")]
)
def test_an_unreadable_manifest_is_refused(body, reason, online, clock, out):
    publish(body)
    assert send({"action": "patch.check"})["code"] == "patch_unavailable"
    assert any(f"code=patch_unavailable reason={reason} pointer=" in m for m in out.messages())


def test_an_oversized_manifest_is_refused_without_reading_it_all(online, clock, out):
    publish(json.dumps({**MANIFEST, "pad": "x" * 9000}))
    assert send({"action": "patch.check"})["code"] == "patch_unavailable"
    assert any("reason=too_large" in m for m in out.messages())


def test_patch_rejected_is_acknowledged_logged_and_counted(online, clock, out):
    reply = send({"action": "patch.rejected", "version": "1.5.0", "reason": "signature_invalid"})
    assert reply == {
        "type": "ack",
        "action": "patch.rejected",
        "reason": "signature_invalid",
        "version": "1.5.0",
    }
    assert "patch_rejected reason=signature_invalid version=1.5.0 agentId=agent-1" in out.messages()
    (doc,) = [d for d in out.emf() if not set(CONNECT_OUTCOMES.values()) & set(d)]  # not ws-connect's
    assert doc["PatchesRejected"] == 1


@pytest.mark.parametrize("reason", ["downgrade", "version_invalid"])
def test_a_refused_downgrade_is_counted_as_patch_rejected_with_its_own_reason(reason, online, clock, out):
    reply = send({"action": "patch.rejected", "version": "1.0.0", "reason": reason})
    assert reply == {"type": "ack", "action": "patch.rejected", "reason": reason, "version": "1.0.0"}
    assert f"patch_rejected reason={reason} version=1.0.0 agentId=agent-1" in out.messages()
    (doc,) = [d for d in out.emf() if not set(CONNECT_OUTCOMES.values()) & set(d)]  # not ws-connect's
    assert doc["PatchesRejected"] == 1


@pytest.mark.parametrize(
    "frame",
    [
        {"action": "patch.rejected", "version": "1.5.0", "reason": "because"},
        {"action": "patch.rejected", "version": "1.5.0 reason=forged", "reason": "sha256_mismatch"},
        {"action": "patch.rejected", "version": "1.5.0"},
        {"action": "patch.rejected", "reason": "size_mismatch"},
    ],
)
def test_patch_rejected_with_an_unknown_reason_or_bad_version_is_schema_invalid(frame, online, clock, out):
    assert send(frame)["code"] == "schema_invalid"
    assert not any(m.startswith("patch_rejected") for m in out.messages())
