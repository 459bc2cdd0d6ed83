"""`byoip patch publish` against moto's S3, SSM and KMS (DIGEST signing as AWS does it)."""

from __future__ import annotations

import base64
import hashlib
import json

import boto3
import pytest
from botocore.stub import Stubber
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_der_public_key

from lambdas.common.patch_manifest import LATEST_POINTER, parse_manifest, statement
from sandbox import moto_kms_digest
from tests.automation.conftest import REGION, one_error_line

BUCKET = "byoip-t-patches-abc"
VERSION_RULE = "(1-64 characters of A-Z a-z 0-9 . _ + -, starting with a letter or digit, e.g. 1.5.0)"


@pytest.fixture
def stage(aws, monkeypatch):
    """Stage `t` deployed in moto: the bucket, its SSM parameter, the signing key and its alias."""
    moto_kms_digest.apply()
    monkeypatch.setenv("AWS_REGION", REGION)
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=BUCKET)
    boto3.client("ssm", region_name=REGION).put_parameter(
        Name="/byoip/t/patches-bucket", Value=BUCKET, Type="String"
    )
    kms = boto3.client("kms", region_name=REGION)
    key = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]
    kms.create_alias(AliasName="alias/byoip-t-patch-signing", TargetKeyId=key["KeyId"])
    return {"s3": s3, "kms": kms, "key_arn": key["Arn"]}


@pytest.fixture
def build(tmp_path):
    path = tmp_path / "agent-1.5.0.tar.gz"
    path.write_bytes(b"new agent build\n" * 100)
    return path


def _object(s3, key):
    return s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()


def test_publish_uploads_the_build_then_a_manifest_that_verifies(cli, stage, build):
    result = cli("patch", "publish", build, "--version", "1.5.0", "--stage", "t")
    assert result.exit_code == 0, result.output
    manifest = parse_manifest(_object(stage["s3"], LATEST_POINTER))
    body = build.read_bytes()
    assert (manifest.version, manifest.key, manifest.size, manifest.sha256, manifest.keyId) == (
        "1.5.0",
        "patches/1.5.0/agent-1.5.0.tar.gz",
        1600,
        hashlib.sha256(body).hexdigest(),
        stage["key_arn"],
    )
    assert _object(stage["s3"], manifest.key) == body
    # The agent's check: the public key verifies the statement that binds version, size and hash.
    public = load_der_public_key(stage["kms"].get_public_key(KeyId=stage["key_arn"])["PublicKey"])
    signature = base64.b64decode(manifest.signature)
    public.verify(signature, statement("1.5.0", 1600, manifest.sha256), ec.ECDSA(hashes.SHA256()))
    with pytest.raises(Exception, match="InvalidSignature|^$"):
        public.verify(signature, statement("1.6.0", 1600, manifest.sha256), ec.ECDSA(hashes.SHA256()))
    assert result.stdout.strip() == (
        f"published 1.5.0: s3://{BUCKET}/patches/1.5.0/agent-1.5.0.tar.gz (1600 bytes, sha256 "
        f"{manifest.sha256}), signed by {stage['key_arn']}"
    )


def test_a_published_version_is_never_replaced(cli, stage, build, tmp_path):
    assert cli("patch", "publish", build, "--version", "1.5.0", "--stage", "t").exit_code == 0
    first = _object(stage["s3"], LATEST_POINTER)
    result = cli("patch", "publish", build, "--version", "1.5.0", "--stage", "t")
    assert result.exit_code == 2
    assert one_error_line(result) == (
        f"error: s3://{BUCKET}/patches/1.5.0/agent-1.5.0.tar.gz already exists: "
        "a published version is never replaced; use a new --version"
    )
    assert _object(stage["s3"], LATEST_POINTER) == first


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--version", "1.5.0\n"), f"error: --version '1.5.0\\n' is not a version {VERSION_RULE}"),
        (("--version", "../x"), f"error: --version '../x' is not a version {VERSION_RULE}"),
        (("--version", "v" * 65), f"error: --version '{'v' * 65}' is not a version {VERSION_RULE}"),
        (
            ("--version", "1.5.0", "--stage", "Prod!"),
            "error: invalid STAGE 'Prod!': use 1-20 lowercase letters, digits or '-', starting with a letter "
            "(e.g. prod, staging, local)",
        ),
        (
            ("--version", "1.5.0", "--region", "moon-1"),
            "error: --region 'moon-1' is not an AWS region name (expected e.g. us-east-1 or eu-west-3)",
        ),
    ],
)
def test_bad_input_is_one_line_and_uploads_nothing(cli, stage, build, args, message):
    full = ("patch", "publish", build, "--stage", "t", *args)
    result = cli(*full)
    assert result.exit_code == 2
    assert one_error_line(result) == message
    assert "Contents" not in stage["s3"].list_objects_v2(Bucket=BUCKET)


def test_the_longest_version_is_accepted(cli, stage, build):
    longest = "1.0.0-" + "v" * 58
    assert cli("patch", "publish", build, "--version", longest, "--stage", "t").exit_code == 0


def test_a_version_agents_cannot_order_is_refused(cli, stage, build):
    result = cli("patch", "publish", build, "--version", "v" * 64, "--stage", "t")
    assert (result.exit_code, one_error_line(result)) == (
        2,
        f"error: --version '{'v' * 64}' cannot be ordered (1-4 dot-separated numbers without leading "
        "zeros, then optional -pre.release and +build, e.g. 1.5.0): agents refuse it",
    )
    assert "Contents" not in stage["s3"].list_objects_v2(Bucket=BUCKET)


@pytest.mark.parametrize("lower", ["1.4.9", "1.5.0-rc.1", "1.5", "1.5.0+rebuilt"])
def test_patch_publish_of_a_lower_or_equal_version_fails_and_writes_nothing(
    cli, stage, build, tmp_path, lower
):
    # the attack (issue 21): `byoip patch publish` put an older version in front of every agent
    assert cli("patch", "publish", build, "--version", "1.5.0", "--stage", "t").exit_code == 0
    before = {o["Key"]: o["ETag"] for o in stage["s3"].list_objects_v2(Bucket=BUCKET)["Contents"]}
    older = tmp_path / "agent-old.tar.gz"
    older.write_bytes(b"old agent build\n" * 10)
    result = cli("patch", "publish", older, "--version", lower, "--stage", "t")
    assert (result.exit_code, one_error_line(result)) == (
        2,
        f"error: --version {lower} is not newer than the latest published version 1.5.0: "
        "agents refuse a downgrade or a re-release; publish a higher version",
    )
    after = {o["Key"]: o["ETag"] for o in stage["s3"].list_objects_v2(Bucket=BUCKET)["Contents"]}
    assert after == before
    assert cli("patch", "publish", older, "--version", "1.5.1", "--stage", "t").exit_code == 0
    assert parse_manifest(_object(stage["s3"], LATEST_POINTER)).version == "1.5.1"


def test_a_missing_or_empty_file_is_refused(cli, stage, tmp_path):
    missing = tmp_path / "nope.zip"
    result = cli("patch", "publish", missing, "--version", "1.5.0", "--stage", "t")
    assert (result.exit_code, one_error_line(result)) == (
        2,
        f"error: FILE '{missing}' does not exist or is not a regular file",
    )
    empty = tmp_path / "empty.zip"
    empty.write_bytes(b"")
    result = cli("patch", "publish", empty, "--version", "1.5.0", "--stage", "t")
    assert one_error_line(result) == f"error: FILE '{empty}' is 0 bytes; a patch is 1 to 536870912 bytes"
    assert "Contents" not in stage["s3"].list_objects_v2(Bucket=BUCKET)


def test_a_stage_that_is_not_deployed_is_named(cli, stage, build):
    result = cli("patch", "publish", build, "--version", "1.5.0", "--stage", "staging")
    assert (result.exit_code, one_error_line(result)) == (
        2,
        "error: no patches bucket for stage 'staging': SSM parameter /byoip/staging/patches-bucket "
        "does not exist (is it deployed?)",
    )


def test_kms_refusing_to_sign_is_one_line_and_nothing_is_uploaded(cli, stage, build):
    kms = boto3.client("kms", region_name=REGION)
    stubber = Stubber(kms)
    stubber.add_client_error(
        "sign", service_error_code="AccessDeniedException", service_message="not allowed to kms:Sign"
    )
    stubber.activate()
    cli.overrides["kms"] = kms
    result = cli("patch", "publish", build, "--version", "1.5.0", "--stage", "t")
    assert (result.exit_code, one_error_line(result)) == (
        1,
        "error: AWS refused Sign (AccessDeniedException: not allowed to kms:Sign)",
    )
    assert "Contents" not in stage["s3"].list_objects_v2(Bucket=BUCKET)


def test_a_signature_kms_does_not_verify_stops_before_any_upload(cli, stage, build):
    kms = boto3.client("kms", region_name=REGION)
    stubber = Stubber(kms)
    stubber.add_response("sign", {"KeyId": stage["key_arn"], "Signature": b"\x30" * 70})
    stubber.add_client_error(
        "verify",
        service_error_code="KMSInvalidSignatureException",
        service_message="The signature is invalid.",
    )
    stubber.activate()
    cli.overrides["kms"] = kms
    result = cli("patch", "publish", build, "--version", "1.5.0", "--stage", "t")
    assert (result.exit_code, one_error_line(result)) == (
        1,
        "error: AWS refused Verify (KMSInvalidSignatureException: The signature is invalid.)",
    )
    assert "Contents" not in stage["s3"].list_objects_v2(Bucket=BUCKET)


def test_the_build_goes_up_before_the_manifest_each_with_its_checksum(cli, stage, build):
    s3 = boto3.client("s3", region_name=REGION)
    sent = []
    s3.meta.events.register(
        "provide-client-params.s3.PutObject",
        lambda params, **_: sent.append((params["Key"], params["ChecksumSHA256"])),
    )
    cli.overrides["s3"] = s3
    assert cli("patch", "publish", build, "--version", "1.5.0", "--stage", "t").exit_code == 0
    manifest = _object(stage["s3"], LATEST_POINTER)
    # Real S3 refuses a body whose SHA-256 differs from ChecksumSHA256 (moto does not check it).
    assert sent == [
        (
            "patches/1.5.0/agent-1.5.0.tar.gz",
            base64.b64encode(hashlib.sha256(build.read_bytes()).digest()).decode(),
        ),
        (LATEST_POINTER, base64.b64encode(hashlib.sha256(manifest).digest()).decode()),
    ]
    assert json.loads(manifest)["key"] == sent[0][0]


def test_public_key_prints_the_pem_agents_load(cli, stage):
    from sandbox.patch_client import load_public_key

    result = cli("patch", "public-key", "--stage", "t")
    assert result.exit_code == 0, result.output
    der = stage["kms"].get_public_key(KeyId=stage["key_arn"])["PublicKey"]
    key = load_public_key(result.stdout.encode())
    assert key.public_numbers() == load_der_public_key(der).public_numbers()
    lines = result.stdout.splitlines()
    assert lines[0] == "-----BEGIN PUBLIC KEY-----" and lines[-1] == "-----END PUBLIC KEY-----"
    assert all(len(line) <= 64 for line in lines[1:-1])


def test_public_key_of_a_stage_without_one_is_one_line(cli, stage):
    result = cli("patch", "public-key", "--stage", "staging")
    assert (result.exit_code, one_error_line(result)) == (
        2,
        "error: no patch-signing key for stage 'staging': alias/byoip-staging-patch-signing does not exist",
    )


def test_public_key_refuses_a_key_that_is_not_a_p256_signing_key(cli, stage):
    kms = stage["kms"]
    rsa = kms.create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")["KeyMetadata"]
    kms.create_alias(AliasName="alias/byoip-u-patch-signing", TargetKeyId=rsa["KeyId"])
    result = cli("patch", "public-key", "--stage", "u")
    assert (result.exit_code, one_error_line(result)) == (
        2,
        "error: key alias/byoip-u-patch-signing is RSA_2048/SIGN_VERIFY, "
        "not an ECC_NIST_P256 SIGN_VERIFY key",
    )
