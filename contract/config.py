"""The one deployment configuration, built once in app.py and passed down (no CDK here)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

from contract.names import Names

ALERT_MODES = ("composite", "all")
_STAGE_RE = re.compile(r"^[a-z][a-z0-9-]{0,19}$")
NOTIFY_OFFLINE_RANGE = (60, 86_400)
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# AWS Chatbot ids as Slack and Microsoft Teams show them (Chatbot console, "Configure new channel").
_SLACK_WORKSPACE_RE = re.compile(r"^T[A-Z0-9]{8,20}$")
_SLACK_CHANNEL_RE = re.compile(r"^[CG][A-Z0-9]{8,20}$")
_GUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
# Teams shows the channel id decoded (19:…@thread.tacv2) or URL-encoded (in the channel link);
# both are accepted, and CloudFormation gets the encoded form (its schema's pattern).
_TEAMS_CHANNEL_RE = re.compile(r"^19:[A-Za-z0-9_.\-=+/,]+@thread\.(tacv2|skype)$")


# Who may assume TokenIssuer and PatchRelease: IAM roles or users named by ARN, never an account root.
_PRINCIPAL_RE = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:(role|user)/[\w+=,.@/-]{1,512}$")
_ROOT_RE = re.compile(r"^(arn:aws[a-z-]*:iam::\d{12}:root|\d{12})$")
_ROLE_NAME_RE = re.compile(r"^[\w+=,.@-]{1,64}$")
# The session tag the trusted principals must carry to assume TokenIssuer or PatchRelease.
OPERATOR_TAG = ("byoip-operator", "true")


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
    # Alert routing (monitoring/routing.py): the page topic gets ops_alerts_email and the pager's
    # HTTPS endpoint, the ticket topic ops_tickets_email; Slack or Teams (AWS Chatbot) get both.
    ops_tickets_email: str | None = None
    pager_https_url: str | None = None
    slack_workspace_id: str | None = None
    slack_channel_id: str | None = None
    teams_tenant_id: str | None = None
    teams_team_id: str | None = None
    teams_channel_id: str | None = None
    # Principals (role or user ARNs) that may assume TokenIssuer and PatchRelease, each only with the
    # principal tag OPERATOR_TAG. Required to deploy (check_deployable); never the account root.
    trusted_principals: tuple[str, ...] = ()
    # The role allowed, besides the rotation function, to change the agents' key (break glass).
    break_glass_role: str = "byoip-break-glass"

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
        for key, email in (
            ("OPS_ALERTS_EMAIL", self.ops_alerts_email),
            ("OPS_TICKETS_EMAIL", self.ops_tickets_email),
        ):
            if email is not None and not _EMAIL_RE.match(email):
                raise ConfigError(f"invalid {key} {email!r}: expected an address like ops@example.com")
        if self.pager_https_url is not None and not _https_url(self.pager_https_url):
            raise ConfigError(
                f"invalid PAGER_HTTPS_URL {self.pager_https_url!r}: "
                "expected https://<host>/<path> (SNS HTTPS subscription; http is not allowed)"
            )
        self._check_chat()
        self._check_principals()
        if not NOTIFY_OFFLINE_RANGE[0] <= self.notify_offline_seconds <= NOTIFY_OFFLINE_RANGE[1]:
            raise ConfigError(
                f"invalid NOTIFY_OFFLINE_SECONDS {self.notify_offline_seconds!r}: "
                f"allowed values are {NOTIFY_OFFLINE_RANGE[0]}-{NOTIFY_OFFLINE_RANGE[1]} (seconds)"
            )
        if self.runbook_base_url is not None and not self.runbook_base_url.startswith("https://"):
            raise ConfigError(
                f"invalid RUNBOOK_BASE_URL {self.runbook_base_url!r}: it must start with https://"
            )

    def _check_principals(self) -> None:
        for arn in self.trusted_principals:
            if _ROOT_RE.match(arn):
                raise ConfigError(
                    f"invalid TRUSTED_PRINCIPALS entry {arn!r}: the account root would trust every principal "
                    "of the account; name roles or users (arn:aws:iam::<account>:role/<name>)"
                )
            if not _PRINCIPAL_RE.match(arn):
                raise ConfigError(
                    f"invalid TRUSTED_PRINCIPALS entry {arn!r}: expected arn:aws:iam::<account>:role/<name> "
                    "or arn:aws:iam::<account>:user/<name>"
                )
        if not _ROLE_NAME_RE.match(self.break_glass_role):
            raise ConfigError(
                f"invalid BREAK_GLASS_ROLE {self.break_glass_role!r}: expected an IAM role name (1-64 of "
                "letters, digits and +=,.@_-)"
            )

    def check_deployable(self) -> None:
        """Settings a deployed stack needs beyond the defaults; synth stops with one line without them."""
        if not self.trusted_principals:
            raise ConfigError(
                "TRUSTED_PRINCIPALS is not set: name the roles or users (comma-separated ARNs, context "
                "trustedPrincipals) that may assume TokenIssuer and PatchRelease; there is no default "
                "(the account root would trust every principal of the account)"
            )

    def _check_chat(self) -> None:
        slack = (
            ("SLACK_WORKSPACE_ID", self.slack_workspace_id, _SLACK_WORKSPACE_RE, "T0123ABCDE"),
            ("SLACK_CHANNEL_ID", self.slack_channel_id, _SLACK_CHANNEL_RE, "C0123ABCDE"),
        )
        teams = (
            ("TEAMS_TENANT_ID", self.teams_tenant_id, _GUID_RE, "a GUID"),
            ("TEAMS_TEAM_ID", self.teams_team_id, _GUID_RE, "a GUID"),
            (
                "TEAMS_CHANNEL_ID",
                self.teams_channel_id and unquote(self.teams_channel_id),
                _TEAMS_CHANNEL_RE,
                "19:...@thread.tacv2",
            ),
        )
        for group in (slack, teams):
            given = [key for key, value, _, _ in group if value is not None]
            if given and len(given) != len(group):
                keys = " + ".join(key for key, *_ in group)
                raise ConfigError(f"incomplete chat settings {', '.join(given)}: set all of {keys} or none")
            for key, value, pattern, example in group:
                if value is not None and not pattern.match(value):
                    raise ConfigError(
                        f"invalid {key} {value!r}: expected {example} (as AWS Chatbot shows it)"
                    )

    @property
    def slack(self) -> bool:
        """Whether Slack notifications through AWS Chatbot are configured."""
        return self.slack_workspace_id is not None

    @property
    def teams_channel_encoded(self) -> str | None:
        """The Teams channel id URL-encoded, as AWS::Chatbot::MicrosoftTeamsChannelConfiguration wants it."""
        return None if self.teams_channel_id is None else quote(unquote(self.teams_channel_id), safe="")

    @property
    def teams(self) -> bool:
        """Whether Microsoft Teams notifications through AWS Chatbot are configured."""
        return self.teams_team_id is not None

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
            ops_tickets_email=pick("opsTicketsEmail", "OPS_TICKETS_EMAIL"),
            pager_https_url=pick("pagerHttpsUrl", "PAGER_HTTPS_URL"),
            slack_workspace_id=pick("slackWorkspaceId", "SLACK_WORKSPACE_ID"),
            slack_channel_id=pick("slackChannelId", "SLACK_CHANNEL_ID"),
            teams_tenant_id=pick("teamsTenantId", "TEAMS_TENANT_ID"),
            teams_team_id=pick("teamsTeamId", "TEAMS_TEAM_ID"),
            teams_channel_id=pick("teamsChannelId", "TEAMS_CHANNEL_ID"),
            trusted_principals=_arns(context("trustedPrincipals"), environ.get("TRUSTED_PRINCIPALS")),
            break_glass_role=pick("breakGlassRole", "BREAK_GLASS_ROLE") or Config.break_glass_role,
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


def _arns(context_value: object | None, env_value: str | None) -> tuple[str, ...]:
    """A list from CDK context (a JSON list or a comma-separated string), else the env var's commas."""
    raw = context_value if context_value not in (None, "", []) else env_value
    if raw is None:
        return ()
    items = raw if isinstance(raw, list | tuple) else str(raw).split(",")
    return tuple(str(item).strip() for item in items if str(item).strip())


def _https_url(raw: str) -> bool:
    """An absolute https URL with a host and no whitespace."""
    parts = urlsplit(raw)
    return parts.scheme == "https" and bool(parts.hostname) and not any(c.isspace() for c in raw)
