"""Publish a signed agent patch: hash the build, sign through KMS, upload the build, then the manifest.

Plain functions over boto3 clients (the CLI passes real ones, tests moto or a Stubber). The
order is the point: the build is uploaded before `patches/latest.json` names it, so the
manifest never points at a missing object, and a version is never overwritten. A new version must
be newer than the latest published one (lambdas/common/patch_version.py): agents refuse any other.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from botocore.exceptions import ClientError

from lambdas.common.patch_manifest import (
    FILE_NAME_PATTERN,
    LATEST_POINTER,
    MAX_PATCH_BYTES,
    SIGNING_ALGORITHM,
    VERSION_PATTERN,
    Manifest,
    ManifestInvalid,
    object_key,
    parse_manifest,
    signed_digest,
)
from lambdas.common.patch_version import ORDERED_RULE, is_newer, version_key

CHUNK = 1024 * 1024


class PublishRefused(ValueError):
    """Bad input or a state that forbids publishing; the message says what and what is allowed."""


@dataclass(frozen=True)
class Build:
    path: Path
    size: int
    sha256: str


def read_build(path: Path) -> Build:
    """Size and SHA-256 of a build file, read in chunks; refuse what agents would refuse."""
    if not path.is_file():
        raise PublishRefused(f"FILE {str(path)!r} does not exist or is not a regular file")
    if not FILE_NAME_PATTERN.fullmatch(path.name):
        raise PublishRefused(
            f"FILE name {path.name!r} is not allowed (1-128 characters of A-Z a-z 0-9 . _ + -, "
            "starting with a letter or digit)"
        )
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    if not 0 < size <= MAX_PATCH_BYTES:
        raise PublishRefused(f"FILE {str(path)!r} is {size} bytes; a patch is 1 to {MAX_PATCH_BYTES} bytes")
    return Build(path, size, digest.hexdigest())


def check_version(version: str) -> str:
    """`version` if agents accept it as a patch version."""
    if not VERSION_PATTERN.fullmatch(version):
        raise PublishRefused(
            f"--version {version!r} is not a version (1-64 characters of A-Z a-z 0-9 . _ + -, "
            "starting with a letter or digit, e.g. 1.5.0)"
        )
    if version_key(version) is None:
        raise PublishRefused(
            f"--version {version!r} cannot be ordered ({ORDERED_RULE}, e.g. 1.5.0): agents refuse it"
        )
    return version


def latest_version(s3: Any, bucket: str) -> str | None:
    """The version `patches/latest.json` names; None when nothing (or no readable manifest) is published."""
    try:
        body = s3.get_object(Bucket=bucket, Key=LATEST_POINTER)["Body"].read()
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return None
        raise
    try:
        return parse_manifest(body).version
    except ManifestInvalid:
        return None  # agents are handed no patch at all meanwhile: any ordered version repairs it


def check_newer(version: str, latest: str | None) -> None:
    """Refuse `version` unless it is newer than the latest published one (agents refuse the others)."""
    if latest is not None and not is_newer(version, latest):
        raise PublishRefused(
            f"--version {version} is not newer than the latest published version {latest}: "
            "agents refuse a downgrade or a re-release; publish a higher version"
        )


def sign(kms: Any, key_id: str, version: str, build: Build) -> tuple[str, str]:
    """(base64 signature, key ARN) from KMS Sign over the manifest's digest; KMS Verify checks it."""
    digest = signed_digest(version, build.size, build.sha256)
    signed = kms.sign(KeyId=key_id, Message=digest, MessageType="DIGEST", SigningAlgorithm=SIGNING_ALGORITHM)
    signature, key_arn = signed["Signature"], signed["KeyId"]
    # Agents will check this signature; make sure KMS itself agrees before anything is uploaded.
    kms.verify(
        KeyId=key_arn,
        Message=digest,
        MessageType="DIGEST",
        Signature=signature,
        SigningAlgorithm=SIGNING_ALGORITHM,
    )
    return base64.b64encode(signature).decode("ascii"), key_arn


def public_key_pem(kms: Any, key_id: str) -> str:
    """The signing key's public half as PEM (what agents are configured with); P-256 signing keys only."""
    answer = kms.get_public_key(KeyId=key_id)
    # KMS answers KeySpec and its deprecated twin CustomerMasterKeySpec; moto only the latter.
    spec = answer.get("KeySpec") or answer.get("CustomerMasterKeySpec")
    if spec != "ECC_NIST_P256" or answer.get("KeyUsage") != "SIGN_VERIFY":
        raise PublishRefused(
            f"key {key_id} is {spec}/{answer.get('KeyUsage')}, not an ECC_NIST_P256 SIGN_VERIFY key"
        )
    body = base64.b64encode(answer["PublicKey"]).decode("ascii")
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return "\n".join(["-----BEGIN PUBLIC KEY-----", *lines, "-----END PUBLIC KEY-----"]) + "\n"


def _exists(s3: Any, bucket: str, key: str) -> bool:
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return False
        raise
    return True


def _upload(s3: Any, bucket: str, key: str, body: BinaryIO | bytes, content_type: str, sha256: str) -> None:
    # S3 checks ChecksumSHA256 against the bytes it receives: a file changed after hashing is refused.
    checksum = base64.b64encode(bytes.fromhex(sha256)).decode("ascii")
    s3.put_object(
        Bucket=bucket,
        Key=key,
        Body=body,
        ContentType=content_type,
        CacheControl="no-store",
        ChecksumSHA256=checksum,
    )


def publish(s3: Any, kms: Any, *, bucket: str, key_id: str, path: Path, version: str) -> Manifest:
    """Sign and publish one build as the latest patch; return the manifest written."""
    check_version(version)
    build = read_build(path)
    key = object_key(version, path.name)
    if _exists(s3, bucket, key):
        raise PublishRefused(
            f"s3://{bucket}/{key} already exists: a published version is never replaced; use a new --version"
        )
    check_newer(version, latest_version(s3, bucket))
    signature, key_arn = sign(kms, key_id, version, build)
    manifest = Manifest(version, key, build.size, build.sha256, signature, key_arn, SIGNING_ALGORITHM)
    with path.open("rb") as handle:
        _upload(s3, bucket, key, handle, "application/octet-stream", build.sha256)
    body = manifest.to_json()
    _upload(s3, bucket, LATEST_POINTER, body, "application/json", hashlib.sha256(body).hexdigest())
    return manifest
