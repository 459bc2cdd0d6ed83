"""Secrets Manager rotation of the agents' HS256 key (the four steps of a rotation function).

Nothing outside Secrets Manager holds the key: ws-connect reads it (current and previous
versions, by `kid`), so `setSecret` has nothing to do. After `finishSecret` the old version is
AWSPREVIOUS and still verifies tokens signed before the rotation, for 30 minutes after the new
version was created (lambdas/common/keys.py); tokens live at most 15 minutes, so rotations must be
further apart than that (the stack rotates every 30 days). An emergency rotation removes
AWSPREVIOUS at once (automation/scripts/revoke_tokens.py).
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

KEY_LENGTH = 64
MIN_KEY_BYTES = 32  # HS256 keys below this are refused by ws-connect (PyJWT's minimum)
STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")


class RotationError(ValueError):
    """The rotation request does not match the secret's state; Secrets Manager retries it."""


def rotate(client: Any, secret_id: str, token: str, step: str) -> str:
    """Run one step for version `token`; returns what was done (for the log line)."""
    if step not in STEPS:
        raise RotationError(f"unknown rotation step {step!r}: allowed {', '.join(STEPS)}")
    versions = client.describe_secret(SecretId=secret_id).get("VersionIdsToStages", {})
    stages = versions.get(token)
    if stages is None and step == "createSecret":
        # Secrets Manager labels the new version AWSPENDING before this step; an emulator (the
        # sandbox's moto) may not: creating it under that label is what the step does anyway.
        stages = ["AWSPENDING"]
    if stages is None:
        raise RotationError(f"version {token} is not a version of the secret")
    if "AWSCURRENT" in stages:
        return "already_current"
    if "AWSPENDING" not in stages:
        raise RotationError(f"version {token} is not pending rotation")
    if step == "createSecret":
        return _create(client, secret_id, token)
    if step == "testSecret":
        value = client.get_secret_value(SecretId=secret_id, VersionId=token, VersionStage="AWSPENDING")
        if len((value.get("SecretString") or "").encode()) < MIN_KEY_BYTES:
            raise RotationError(f"the pending key is shorter than {MIN_KEY_BYTES} bytes")
        return "tested"
    if step == "finishSecret":
        current = next(v for v, s in versions.items() if "AWSCURRENT" in s)
        client.update_secret_version_stage(
            SecretId=secret_id, VersionStage="AWSCURRENT", MoveToVersionId=token, RemoveFromVersionId=current
        )
        return "finished"
    return "nothing_to_set"  # setSecret


def _create(client: Any, secret_id: str, token: str) -> str:
    try:
        client.get_secret_value(SecretId=secret_id, VersionId=token, VersionStage="AWSPENDING")
        return "already_created"  # a retried createSecret must not replace the pending key
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
            raise
    value = client.get_random_password(PasswordLength=KEY_LENGTH, ExcludePunctuation=True)["RandomPassword"]
    client.put_secret_value(
        SecretId=secret_id, ClientRequestToken=token, SecretString=value, VersionStages=["AWSPENDING"]
    )
    return "created"
