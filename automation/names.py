"""Physical names of one stage that the CLI needs (docs/contracts.md), without importing CDK."""

from __future__ import annotations

from automation.output import fail
from stacks.config import Config, ConfigError

JOBS = "jobs"
DLQ = "jobs-dlq"
QUARANTINE = "jobs-quarantine"


def queue_name(config: Config, suffix: str) -> str:
    """e.g. byoip-prod-jobs-dlq."""
    return f"{config.prefix}-{suffix}"


def stage_config(stage: str) -> Config:
    """Config of the stage named on the command line; a bad value is a one-line error."""
    try:
        return Config(stage=stage)
    except ConfigError as err:
        fail(str(err))
