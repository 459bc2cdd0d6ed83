"""The reference agent's side of signed patches: verify the manifest, then the downloaded build.

The agent is configured with the public half of the stage's patch-signing key (PEM). It trusts
nothing in a `patch.check` answer until the signature verifies over the statement that binds
version, size and SHA-256 (lambdas/common/patch_manifest.py); only then does it download the
build, and it keeps the build only if size and SHA-256 match what was signed. Any failure is a
reason from PATCH_REJECT_REASONS, which the agent reports in a `patch.rejected` frame.
A signed version that is not newer than the agent's own (lambdas/common/patch_version.py) is
refused before anything is downloaded: `downgrade` (lower or equal), `version_invalid` (unordered).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import urllib.request
from collections import Counter
from collections.abc import Callable
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from lambdas.common.patch_manifest import MAX_PATCH_BYTES, SIGNING_ALGORITHM, VERSION_PATTERN, statement
from lambdas.common.patch_version import is_newer, version_key

DOWNLOAD_TIMEOUT_S = 30


class PublicKeyInvalid(ValueError):
    """The configured key is not a PEM P-256 public key."""


def load_public_key(pem: bytes) -> ec.EllipticCurvePublicKey:
    """The patch-signing public key from PEM (what `aws kms get-public-key` returns, PEM-wrapped)."""
    try:
        key = load_pem_public_key(pem)
    except (ValueError, TypeError) as err:
        raise PublicKeyInvalid(f"not a PEM public key ({err})") from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise PublicKeyInvalid("not an ECC NIST P-256 public key (the patch-signing key is ECC_NIST_P256)")
    return key


def check_manifest(frame: dict[str, Any], key: ec.EllipticCurvePublicKey) -> str | None:
    """None when the answer's manifest is complete and signed by `key`, else the rejection reason."""
    version: Any = frame.get("version")
    size: Any = frame.get("size")
    sha256: Any = frame.get("sha256")
    complete = (
        isinstance(version, str)
        and VERSION_PATTERN.fullmatch(version)
        and isinstance(size, int)
        and not isinstance(size, bool)
        and 0 < size <= MAX_PATCH_BYTES
        and isinstance(sha256, str)
        and isinstance(frame.get("signature"), str)
        and isinstance(frame.get("url"), str)
        and frame.get("signingAlgorithm") == SIGNING_ALGORITHM
    )
    if not complete:
        return "manifest_invalid"
    try:
        signature = base64.b64decode(frame["signature"], validate=True)
        key.verify(signature, statement(version, size, sha256), ec.ECDSA(hashes.SHA256()))
    except (binascii.Error, ValueError, InvalidSignature):
        return "signature_invalid"
    return None


def check_build(frame: dict[str, Any], body: bytes) -> str | None:
    """None when the downloaded build is the one that was signed, else the rejection reason."""
    if len(body) != frame["size"]:
        return "size_mismatch"
    if hashlib.sha256(body).hexdigest() != frame["sha256"]:
        return "sha256_mismatch"
    return None


def _download(url: str, limit: int) -> bytes:
    with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response:  # noqa: S310 - presigned https
        return bytes(response.read(limit + 1))


def check_order(frame: dict[str, Any], current: str | None) -> str | None:
    """None when the (signed) offered version is newer than the agent's `current`, else the reason."""
    if version_key(frame["version"]) is None:
        return "version_invalid"
    return None if is_newer(frame["version"], current) else "downgrade"


async def fetch_verified(
    frame: dict[str, Any], key: ec.EllipticCurvePublicKey, current: str | None = None
) -> tuple[bytes | None, str | None]:
    """(build, None) for a newer patch that verifies end to end, else (None, reason); downloads only
    a signed version newer than `current` (the agent's own)."""
    reason = check_manifest(frame, key) or check_order(frame, current)
    if reason is not None:
        return None, reason
    try:
        body = await asyncio.to_thread(_download, frame["url"], frame["size"])
    except OSError:
        return None, "download_failed"
    reason = check_build(frame, body)
    return (None, reason) if reason else (body, None)


class PatchChecker:
    """An agent's patch state: what it applied and what it refused (by reason)."""

    def __init__(self, key: ec.EllipticCurvePublicKey, log: Callable[[str], None]) -> None:
        self.key = key
        self.log = log
        self.applied: list[str] = []
        self.rejected: Counter[str] = Counter()
        self.builds: dict[str, bytes] = {}  # version -> the verified build

    @staticmethod
    def request(version: str) -> dict[str, Any]:
        """The `patch.check` frame for an agent running `version`."""
        return {"action": "patch.check", "version": version}

    async def answer(
        self, frame: dict[str, Any], current: str | None = None
    ) -> tuple[str | None, dict[str, Any] | None]:
        """(version to switch to, frame to send back) for a `patch.check` answer; the agent runs `current`."""
        if frame.get("version") is None or frame.get("upToDate") is True:
            return None, None
        body, reason = await fetch_verified(frame, self.key, current)
        version = frame.get("version")
        if reason is None and body is not None and isinstance(version, str):
            self.applied.append(version)
            self.builds[version] = body
            self.log(f"patch {version} verified and applied ({len(body)} bytes)")
            return version, None
        shown = version if isinstance(version, str) and VERSION_PATTERN.fullmatch(version) else "unknown"
        self.rejected[str(reason)] += 1
        self.log(f"patch {shown} refused: {reason}")
        return None, {"action": "patch.rejected", "version": shown, "reason": reason}
