"""Signed patches end to end in the sandbox: moto's KMS signs, the backend hands out, agents verify.

The attacker here can write the patches bucket (in AWS the bucket policy stops that; the sandbox
does not emulate IAM, which is exactly the case the signature must survive) but cannot use the
stage's KMS key: an unsigned, altered, relabelled or foreign-signed patch must be refused.
"""

from __future__ import annotations

import base64
import hashlib
import json

import pytest

from automation.patches import publish
from contract.names import Names
from lambdas.common.auth import mint_token
from lambdas.common.patch_manifest import LATEST_POINTER, Manifest, object_key, signed_digest
from sandbox.agent import AgentBehaviour
from sandbox.fleet import Fleet
from sandbox.patch_client import PatchChecker, load_public_key

WS_MESSAGE_LOG = "/aws/lambda/byoip-local-ws-message"


@pytest.fixture(scope="module")
def release(box, tmp_path_factory):
    """Publish a signed build the way `byoip patch publish` does, against the sandbox's moto."""
    bucket = box.client("ssm").get_parameter(Name=Names("local").patches_bucket_parameter)["Parameter"][
        "Value"
    ]
    folder = tmp_path_factory.mktemp("builds")

    def release_(version: str, body: bytes) -> Manifest:
        path = folder / f"agent-{version}.bin"
        path.write_bytes(body)
        alias = Names("local").patch_signing_key_alias
        return publish(
            box.client("s3"), box.client("kms"), bucket=bucket, key_id=alias, path=path, version=version
        )

    release_.bucket = bucket
    return release_


@pytest.fixture(scope="module")
def agents(box):
    secret = box.jwt_secret()
    fleet = Fleet(box.gateway.url, lambda agent, creator: mint_token(secret, agent, creator))
    yield fleet
    fleet.stop()


def _checker(box) -> PatchChecker:
    return PatchChecker(load_public_key(box.patch_public_key()), lambda line: None)


def _reconnect(box, fleet, agent_id):
    """The agent asks for the latest patch on every connect."""
    before = fleet.agents[agent_id].stats.connects
    fleet.offline([agent_id], abrupt=False)
    fleet.online([agent_id])
    assert box.wait_for(lambda: fleet.agents[agent_id].stats.connects > before, 20)


def _put(box, bucket, key, body):
    box.client("s3").put_object(Bucket=bucket, Key=key, Body=body)


def test_a_signed_patch_is_applied_and_every_forgery_is_refused(box, release, agents):
    s3_bucket = release.bucket
    checker = _checker(box)
    # GIVEN a signed release 2.0.0 and an agent on 1.0 configured with the stage's public key
    good = release("2.0.0", b"good build 2.0.0\n" * 64)
    agent = agents.add(
        "patcher", "creator-1", AgentBehaviour(0.01, False, box.clock.real(120), "1.0"), checker
    )
    # THEN it verifies and applies it
    assert box.wait_for(lambda: checker.applied == ["2.0.0"], 20)
    assert checker.builds["2.0.0"] == b"good build 2.0.0\n" * 64 and agent.behaviour.version == "2.0.0"

    # WHEN an attacker swaps the bytes of a properly signed 2.1.0 after it was published
    signed = release("2.1.0", b"good build 2.1.0\n" * 64)
    _put(box, s3_bucket, signed.key, b"evil build 2.1.0\n" * 64)
    _reconnect(box, agents, "patcher")
    assert box.wait_for(lambda: checker.rejected["sha256_mismatch"] == 1, 20)

    # WHEN the attacker relabels the signed 2.0.0 manifest as version 9.9.9
    relabelled = json.loads(good.to_json()) | {"version": "9.9.9"}
    _put(box, s3_bucket, LATEST_POINTER, json.dumps(relabelled))
    _reconnect(box, agents, "patcher")
    assert box.wait_for(lambda: checker.rejected["signature_invalid"] == 1, 20)

    # WHEN the attacker signs its own build with a key of its own
    kms = box.client("kms")
    own = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]
    evil = b"evil build 3.0.0\n" * 64
    sha = hashlib.sha256(evil).hexdigest()
    signature = kms.sign(
        KeyId=own["KeyId"],
        Message=signed_digest("3.0.0", len(evil), sha),
        MessageType="DIGEST",
        SigningAlgorithm="ECDSA_SHA_256",
    )["Signature"]
    forged = Manifest(
        "3.0.0",
        object_key("3.0.0", "evil.bin"),
        len(evil),
        sha,
        base64.b64encode(signature).decode(),
        own["Arn"],
        "ECDSA_SHA_256",
    )
    _put(box, s3_bucket, forged.key, evil)
    _put(box, s3_bucket, LATEST_POINTER, forged.to_json())
    _reconnect(box, agents, "patcher")
    assert box.wait_for(lambda: checker.rejected["signature_invalid"] == 2, 20)

    # WHEN the attacker writes an unsigned manifest: the backend refuses to hand it out at all
    unsigned = {k: v for k, v in json.loads(forged.to_json()).items() if k not in ("signature", "keyId")}
    _put(box, s3_bucket, LATEST_POINTER, json.dumps(unsigned))
    errors_before = len(agent.stats.errors)
    _reconnect(box, agents, "patcher")
    assert box.wait_for(lambda: len(agent.stats.errors) > errors_before, 20)
    assert agent.stats.errors[-1]["code"] == "patch_unavailable"

    # THEN the agent still runs the one build that verified, and the backend logged each refusal
    assert checker.applied == ["2.0.0"] and agent.behaviour.version == "2.0.0"
    assert dict(checker.rejected) == {"sha256_mismatch": 1, "signature_invalid": 2}
    assert box.wait_for(lambda: len(box.logs.grep(WS_MESSAGE_LOG, "patch_rejected reason=")) == 3, 10)
    rejected = box.logs.grep(WS_MESSAGE_LOG, "patch_rejected reason=")
    assert "patch_rejected reason=sha256_mismatch version=2.1.0 agentId=patcher" in rejected[0]
    assert "patch_rejected reason=signature_invalid version=9.9.9 agentId=patcher" in rejected[1]
    assert "patch_rejected reason=signature_invalid version=3.0.0 agentId=patcher" in rejected[2]
    missing = box.logs.grep(WS_MESSAGE_LOG, "code=patch_unavailable reason=field_missing field=signature")
    assert len(missing) == 1
