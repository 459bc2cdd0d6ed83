"""The agent's patch checks without a sandbox: key loading, manifest and build checks, moto's DIGEST."""

from __future__ import annotations

import asyncio
import base64
import hashlib

import boto3
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from moto import mock_aws

from lambdas.common.patch_manifest import signed_digest, statement
from sandbox import agent_main as agent_module
from sandbox import moto_kms_digest
from sandbox.patch_client import PatchChecker, PublicKeyInvalid, check_build, check_manifest, load_public_key

BUILD = b"agent build\n" * 10
SHA = hashlib.sha256(BUILD).hexdigest()


def _pem(private) -> bytes:
    return private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@pytest.fixture(scope="module")
def signer():
    return ec.generate_private_key(ec.SECP256R1())


def _frame(signer, **change):
    version, size, sha = (
        change.get("version", "2.0.0"),
        change.get("size", len(BUILD)),
        change.get("sha256", SHA),
    )
    signature = signer.sign(statement(version, size, sha), ec.ECDSA(hashes.SHA256()))
    frame = {
        "type": "patch.check",
        "version": version,
        "size": size,
        "sha256": sha,
        "signature": base64.b64encode(signature).decode(),
        "signingAlgorithm": "ECDSA_SHA_256",
        "url": "http://127.0.0.1:9/never",
        "upToDate": False,
    }
    return frame


def test_only_a_pem_p256_public_key_is_accepted(signer, tmp_path):
    assert load_public_key(_pem(signer)).public_numbers() == signer.public_key().public_numbers()
    with pytest.raises(PublicKeyInvalid, match="^not an ECC NIST P-256 public key"):
        load_public_key(_pem(ec.generate_private_key(ec.SECP384R1())))
    with pytest.raises(PublicKeyInvalid, match="^not an ECC NIST P-256 public key"):
        load_public_key(_pem(rsa.generate_private_key(public_exponent=65537, key_size=2048)))
    with pytest.raises(PublicKeyInvalid, match="^not a PEM public key"):
        load_public_key(b"-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n")


def test_a_signed_manifest_verifies_and_any_changed_field_does_not(signer):
    key = signer.public_key()
    frame = _frame(signer)
    assert check_manifest(frame, key) is None
    for field, value in (("version", "2.0.1"), ("size", len(BUILD) + 1), ("sha256", "0" * 64)):
        assert check_manifest({**frame, field: value}, key) == "signature_invalid", field
    other = ec.generate_private_key(ec.SECP256R1()).public_key()
    assert check_manifest(frame, other) == "signature_invalid"
    assert check_manifest({**frame, "signature": "%%%"}, key) == "signature_invalid"


@pytest.mark.parametrize("field", ["version", "size", "sha256", "signature", "url", "signingAlgorithm"])
def test_a_manifest_missing_a_field_is_manifest_invalid(signer, field):
    frame = {k: v for k, v in _frame(signer).items() if k != field}
    assert check_manifest(frame, signer.public_key()) == "manifest_invalid"


def test_the_build_must_be_the_signed_one(signer):
    frame = _frame(signer)
    assert check_build(frame, BUILD) is None
    assert check_build(frame, BUILD + b"x") == "size_mismatch"
    assert check_build(frame, BUILD[:-1] + b"X") == "sha256_mismatch"


def test_an_unsigned_answer_is_refused_before_any_download(signer, monkeypatch):
    from sandbox import patch_client

    downloads = []
    monkeypatch.setattr(patch_client, "_download", lambda url, limit: downloads.append(url) or BUILD)
    checker = PatchChecker(signer.public_key(), lambda line: None)
    forged = {**_frame(signer), "version": "6.6.6"}
    assert asyncio.run(checker.answer(forged)) == (
        None,
        {"action": "patch.rejected", "version": "6.6.6", "reason": "signature_invalid"},
    )
    assert downloads == [] and checker.applied == []
    assert asyncio.run(checker.answer(_frame(signer))) == ("2.0.0", None)
    assert downloads == ["http://127.0.0.1:9/never"] and checker.applied == ["2.0.0"]
    assert asyncio.run(checker.answer({**_frame(signer), "upToDate": True})) == (None, None)
    assert asyncio.run(checker.answer({"type": "patch.check", "version": None, "upToDate": True})) == (
        None,
        None,
    )
    assert dict(checker.rejected) == {"signature_invalid": 1}


def test_a_download_failure_is_reported(signer, monkeypatch):
    from sandbox import patch_client

    def refuse(url, limit):
        raise OSError("connection refused")

    monkeypatch.setattr(patch_client, "_download", refuse)
    checker = PatchChecker(signer.public_key(), lambda line: None)
    assert asyncio.run(checker.answer(_frame(signer)))[1]["reason"] == "download_failed"


def test_the_agent_refuses_a_bad_key_file_with_one_line(tmp_path, capsys):
    bad = tmp_path / "key.pem"
    bad.write_text("not a key")
    assert agent_module.main(["ws://127.0.0.1:9", "--token", "t", "--patch-public-key", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: --patch-public-key {bad}: not a PEM public key")
    missing = tmp_path / "missing.pem"
    assert agent_module.main(["ws://127.0.0.1:9", "--token", "t", "--patch-public-key", str(missing)]) == 2
    assert capsys.readouterr().err.startswith(f"error: --patch-public-key {missing}: [Errno 2]")


def test_moto_signs_a_digest_as_kms_does(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    moto_kms_digest.apply()
    with mock_aws():
        kms = boto3.client("kms", region_name="us-east-1")
        key = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
        digest = signed_digest("1.0.0", 10, "a" * 64)
        signed = kms.sign(KeyId=key, Message=digest, MessageType="DIGEST", SigningAlgorithm="ECDSA_SHA_256")
        public = serialization.load_der_public_key(kms.get_public_key(KeyId=key)["PublicKey"])
        public.verify(signed["Signature"], statement("1.0.0", 10, "a" * 64), ec.ECDSA(hashes.SHA256()))
        args = {"KeyId": key, "MessageType": "DIGEST", "SigningAlgorithm": "ECDSA_SHA_256"}
        assert kms.verify(Message=digest, Signature=signed["Signature"], **args)["SignatureValid"] is True
        with pytest.raises(kms.exceptions.KMSInvalidSignatureException):
            kms.verify(Message=hashlib.sha256(b"other").digest(), Signature=signed["Signature"], **args)


def test_patch_rollback_agent_on_2_0_0_refuses_a_signed_1_0_0_and_2_0_0(signer, monkeypatch):
    # the attack (issue 21): an agent on 2.0.0 applied a replayed, genuinely signed 1.0.0
    from sandbox import patch_client

    downloads = []
    monkeypatch.setattr(patch_client, "_download", lambda url, limit: downloads.append(url) or BUILD)
    checker = PatchChecker(signer.public_key(), lambda line: None)
    for old in ("1.0.0", "2.0.0", "2.0.0+rebuilt", "2.0.0-rc.1"):
        assert asyncio.run(checker.answer(_frame(signer, version=old), "2.0.0")) == (
            None,
            {"action": "patch.rejected", "version": old, "reason": "downgrade"},
        ), old
    assert asyncio.run(checker.answer(_frame(signer, version="banana"), "2.0.0")) == (
        None,
        {"action": "patch.rejected", "version": "banana", "reason": "version_invalid"},
    )
    assert downloads == [] and checker.applied == []
    assert dict(checker.rejected) == {"downgrade": 4, "version_invalid": 1}
    assert asyncio.run(checker.answer(_frame(signer, version="2.0.1"), "2.0.0")) == ("2.0.1", None)
    assert checker.applied == ["2.0.1"]


def test_an_unsigned_lower_version_is_still_signature_invalid(signer):
    # the signature is checked first: a forged frame is reported as forged, not as a downgrade
    from sandbox.patch_client import check_manifest, check_order

    forged = {**_frame(signer), "version": "1.0.0"}
    assert check_manifest(forged, signer.public_key()) == "signature_invalid"
    assert check_order(forged, "2.0.0") == "downgrade"
    assert check_order(_frame(signer, version="3.0.0"), "sandbox-1.0") is None
