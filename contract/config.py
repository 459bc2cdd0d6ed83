"""The one deployment configuration, built once in app.py and passed down (no CDK here)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from contract.names import Names

ALERT_MODES = ("composite", "all")
_STAGE_RE = re.compile(r"^[a-z][a-z0-9-]{0,19}$")
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class ConfigError(ValueError):
    """A configuration value is not allowed; the message is one line for the user."""


@dataclass(frozen=True)
class Config:
    """Deployment settings: stage, alert routing and optional links."""

    stage: str = "prod"
    alert_mode: str = "composite"
    ops_alerts_email: str | None = None
    runbook_base_url: str | None = None

    def __post_init__(self) -> None:
        if not _STAGE_RE.match(self.stage):
            raise ConfigError(
                f"invalid STAGE {self.stage!r}: use 1-20 lowercase letters, digits or '-', "
                "starting with a letter (e.g. prod, staging, local)"
            )
        if self.alert_mode not in ALERT_MODES:
            raise ConfigError(
                f"invalid ALERT_MODE {self.alert_mode!r}: allowed values are {' | '.join(ALERT_MODES)}"
            )
        if self.ops_alerts_email is not None and not _EMAIL_RE.match(self.ops_alerts_email):
            raise ConfigError(
                f"invalid OPS_ALERTS_EMAIL {self.ops_alerts_email!r}: "
                "expected an address like ops@example.com"
            )
        if self.runbook_base_url is not None and not self.runbook_base_url.startswith("https://"):
            raise ConfigError(
                f"invalid RUNBOOK_BASE_URL {self.runbook_base_url!r}: it must start with https://"
            )

    @property
    def names(self) -> Names:
        """Every physical name of this stage."""
        return Names(self.stage)

    @property
    def stack_name(self) -> str:
        return self.names.stack

    @property
    def prefix(self) -> str:
        return self.names.prefix

    @classmethod
    def from_sources(cls, context: Callable[[str], object | None], environ: Mapping[str, str]) -> Config:
        """CDK context first, then environment variables, then defaults."""

        def pick(ctx_key: str, env_key: str) -> str | None:
            value = context(ctx_key)
            if value is None or value == "":
                value = environ.get(env_key) or None
            return None if value is None else str(value).strip()

        return cls(
            stage=pick("stage", "STAGE") or "prod",
            alert_mode=pick("alertMode", "ALERT_MODE") or "composite",
            ops_alerts_email=pick("opsAlertsEmail", "OPS_ALERTS_EMAIL"),
            runbook_base_url=pick("runbookBaseUrl", "RUNBOOK_BASE_URL"),
        )
