"""KMS Sign/Verify with MessageType=DIGEST in moto, as AWS does it.

moto 5.2.5 ignores MessageType and hashes the 32-byte digest again (it signs SHA-256 of the
digest), so a signature it returns for DIGEST does not verify against the public key the way a
real KMS signature does. `byoip patch publish` signs a digest; this patch makes moto sign and
verify that digest as given (ECDSA over a prehashed SHA-256) for ECC_NIST_P256 keys and leaves
every other call to moto. Applied in the sandbox's moto server and in the tests that sign.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, utils
from moto.core.exceptions import JsonRESTError
from moto.kms.responses import KmsResponse

_original_sign = KmsResponse.sign
_original_verify = KmsResponse.verify
_applied = False
_ECDSA = ec.ECDSA(utils.Prehashed(hashes.SHA256()))


class InvalidSignatureError(JsonRESTError):
    """What KMS Verify answers for a signature that does not verify."""

    def __init__(self) -> None:
        super().__init__("KMSInvalidSignatureException", "The signature is invalid.")


def _digest_key(response: Any) -> tuple[Any, bytes] | None:
    """(key, digest) when this call is an ECDSA_SHA_256 DIGEST call on a P-256 key, else None."""
    if response._get_param("MessageType") != "DIGEST":
        return None
    if response._get_param("SigningAlgorithm") != "ECDSA_SHA_256":
        return None
    key = response.kms_backend.describe_key(response._get_param("KeyId"))
    private = getattr(key.private_key, "private_key", None)
    if key.key_usage != "SIGN_VERIFY" or not isinstance(private, ec.EllipticCurvePrivateKey):
        return None
    message = response._get_param("Message")
    digest = message.encode("utf-8") if isinstance(message, str) else message
    if len(digest) != 32:  # AWS: a DIGEST for ECDSA_SHA_256 is exactly 32 bytes
        return None
    return key, digest


def _sign(self: KmsResponse) -> str:
    found = _digest_key(self)
    if found is None:
        return _original_sign(self)
    key, digest = found
    signature = key.private_key.private_key.sign(digest, _ECDSA)
    body = {
        "KeyId": key.arn,
        "Signature": base64.b64encode(signature).decode(),
        "SigningAlgorithm": "ECDSA_SHA_256",
    }
    return json.dumps(body)


def _verify(self: KmsResponse) -> str:
    found = _digest_key(self)
    if found is None:
        return _original_verify(self)
    key, digest = found
    signature = self._get_param("Signature")
    raw = base64.b64decode(signature) if isinstance(signature, str) else signature
    try:
        key.private_key.private_key.public_key().verify(raw, digest, _ECDSA)
    except InvalidSignature:
        raise InvalidSignatureError() from None
    return json.dumps({"KeyId": key.arn, "SignatureValid": True, "SigningAlgorithm": "ECDSA_SHA_256"})


def apply() -> None:
    """Install the patch once per process."""
    global _applied
    if not _applied:
        KmsResponse.sign = _sign  # type: ignore[method-assign]
        KmsResponse.verify = _verify  # type: ignore[method-assign]
        _applied = True
