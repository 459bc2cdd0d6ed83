"""The one deployment configuration, built once in app.py and passed down (no CDK here)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from contract.names import Names

ALERT_MODES = ("composite", "all")
_STAGE_RE = re.compile(r"^[a-z][a-z0-9-]{0,19}$")
NOTIFY_OFFLINE_RANGE = (60, 86_400)
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
    # How long a creator's agent may stay offline, with jobs held for it, before the creator is
    # told (lambdas/common/notify.py); 10 minutes by default, 1 minute to 1 day.
    notify_offline_seconds: int = 600

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
        if not NOTIFY_OFFLINE_RANGE[0] <= self.notify_offline_seconds <= NOTIFY_OFFLINE_RANGE[1]:
            raise ConfigError(
                f"invalid NOTIFY_OFFLINE_SECONDS {self.notify_offline_seconds!r}: "
                f"allowed values are {NOTIFY_OFFLINE_RANGE[0]}-{NOTIFY_OFFLINE_RANGE[1]} (seconds)"
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
            notify_offline_seconds=_seconds(pick("notifyOfflineSeconds", "NOTIFY_OFFLINE_SECONDS")),
        )


def _seconds(raw: str | None) -> int:
    """A whole number of seconds; anything else is one clear error line."""
    if raw is None:
        return Config.notify_offline_seconds
    if not raw.isdigit():
        low, high = NOTIFY_OFFLINE_RANGE
        raise ConfigError(
            f"invalid NOTIFY_OFFLINE_SECONDS {raw!r}: allowed values are {low}-{high} (seconds)"
        )
    return int(raw)
