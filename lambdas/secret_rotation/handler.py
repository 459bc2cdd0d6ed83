"""secret-rotation: thin entry point; Secrets Manager calls it with SecretId, ClientRequestToken, Step."""

from __future__ import annotations

from typing import Any

from lambdas.common import aws
from lambdas.common.logs import function_logger
from lambdas.common.rotation import rotate
from lambdas.common.tracing import traced

logger = function_logger()


@traced
def handler(event: dict[str, Any], context: Any) -> None:
    step, token = event["Step"], event["ClientRequestToken"]
    done = rotate(aws.client("secretsmanager"), event["SecretId"], token, step)
    logger.info(f"secret_rotation step={step} outcome={done}", extra={"versionId": token})
