"""The signed patch manifest (`patches/latest.json`): its fields, its checks, and what is signed.

A release is signed with the stack's KMS key (ECC_NIST_P256, ECDSA_SHA_256) over the SHA-256
of one statement that binds the version to the build's size and SHA-256, so an old signed
build cannot be relabelled as a newer version. `byoip patch publish` signs, ws-message
refuses a manifest that lacks any field, and the agent verifies the signature with the public
key it was configured with before it downloads anything. No cryptography here: the backend
only hands the manifest out; the trust decision is the agent's.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import asdict, dataclass
from typing import Any

PATCHES_PREFIX = "patches/"
LATEST_POINTER = f"{PATCHES_PREFIX}latest.json"
SIGNING_ALGORITHM = "ECDSA_SHA_256"
STATEMENT_TAG = "byoip-agent-patch:v1"
VERSION_PATTERN = re.compile(r"[0-9A-Za-z][0-9A-Za-z._+-]{0,63}")
FILE_NAME_PATTERN = re.compile(r"[0-9A-Za-z][0-9A-Za-z._+-]{0,127}")
SHA256_PATTERN = re.compile(r"[0-9a-f]{64}")
MAX_PATCH_BYTES = 512 * 1024 * 1024
MAX_SIGNATURE_BYTES = 80  # DER ECDSA P-256: at most 72 bytes
MAX_KEY_ID = 2048
MAX_MANIFEST_BYTES = 8 * 1024
# Why an agent refused a patch (its `patch.rejected` frame); the backend logs and counts them.
PATCH_REJECT_REASONS = (
    "signature_invalid",  # the manifest does not verify with the agent's configured public key
    "sha256_mismatch",  # the downloaded build is not the one that was signed
    "size_mismatch",
    "download_failed",
    "manifest_invalid",  # the patch.check answer lacks a field the agent needs
    "downgrade",  # signed, but not newer than the agent's own version (patch_version.is_newer)
    "version_invalid",  # signed, but a version the agent cannot order (patch_version.py)
)


class ManifestInvalid(ValueError):
    """The manifest is unreadable or a field is missing or malformed; `reason` and `field` say which."""

    def __init__(self, reason: str, field: str = "") -> None:
        super().__init__(f"reason={reason}" + (f" field={field}" if field else ""))
        self.reason = reason
        self.field = field


@dataclass(frozen=True)
class Manifest:
    """What `latest.json` holds; every field is mandatory."""

    version: str
    key: str
    size: int
    sha256: str
    signature: str  # base64 of the DER ECDSA signature KMS returned
    keyId: str  # noqa: N815 - the JSON field name
    signingAlgorithm: str  # noqa: N815 - the JSON field name

    def to_json(self) -> bytes:
        """The manifest as written to the bucket."""
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":")).encode("utf-8")


def statement(version: str, size: int, sha256: str) -> bytes:
    """The bytes whose SHA-256 is signed: the version bound to the build's size and hash."""
    return f"{STATEMENT_TAG}\nversion={version}\nsize={size}\nsha256={sha256}\n".encode()


def signed_digest(version: str, size: int, sha256: str) -> bytes:
    """The 32-byte digest handed to KMS Sign (MessageType DIGEST) and checked by the agent."""
    return hashlib.sha256(statement(version, size, sha256)).digest()


def object_key(version: str, file_name: str) -> str:
    """Where a build is stored: patches/<version>/<file name>."""
    return f"{PATCHES_PREFIX}{version}/{file_name}"


def _text(data: dict[str, Any], name: str, pattern: re.Pattern[str] | None = None, limit: int = 1024) -> str:
    value = data.get(name)
    if value is None:
        raise ManifestInvalid("field_missing", name)
    if not isinstance(value, str) or not value or len(value) > limit:
        raise ManifestInvalid("field_invalid", name)
    if pattern is not None and not pattern.fullmatch(value):
        raise ManifestInvalid("field_invalid", name)
    return value


def parse_manifest(body: bytes) -> Manifest:
    """Check every field of a manifest; raise ManifestInvalid naming the first bad one."""
    if len(body) > MAX_MANIFEST_BYTES:
        raise ManifestInvalid("too_large")
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise ManifestInvalid("json_invalid") from None
    if not isinstance(data, dict):
        raise ManifestInvalid("json_invalid")
    version = _text(data, "version", VERSION_PATTERN)
    key = _text(data, "key")
    if key != key.strip() or not key.startswith(PATCHES_PREFIX) or key == LATEST_POINTER or ".." in key:
        raise ManifestInvalid("field_invalid", "key")
    size = data.get("size")
    if size is None:
        raise ManifestInvalid("field_missing", "size")
    if not isinstance(size, int) or isinstance(size, bool) or not 0 < size <= MAX_PATCH_BYTES:
        raise ManifestInvalid("field_invalid", "size")
    sha256 = _text(data, "sha256", SHA256_PATTERN)
    signature = _text(data, "signature", limit=4 * MAX_SIGNATURE_BYTES)
    try:
        raw = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        raise ManifestInvalid("field_invalid", "signature") from None
    if not 8 <= len(raw) <= MAX_SIGNATURE_BYTES:
        raise ManifestInvalid("field_invalid", "signature")
    key_id = _text(data, "keyId", limit=MAX_KEY_ID)
    algorithm = _text(data, "signingAlgorithm")
    if algorithm != SIGNING_ALGORITHM:
        raise ManifestInvalid("field_invalid", "signingAlgorithm")
    return Manifest(version, key, size, sha256, signature, key_id, algorithm)
