"""The stage named on the command line, as the contract's Config (one error line when it is bad)."""

from __future__ import annotations

from automation.output import fail
from contract.config import Config, ConfigError


def stage_config(stage: str) -> Config:
    """Config of the stage named on the command line; a bad value is a one-line error."""
    try:
        return Config(stage=stage)
    except ConfigError as err:
        fail(str(err))
