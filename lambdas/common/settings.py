"""The Lambda environment of docs/contracts.md, read on demand (the sandbox sets it per function)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_LEASE_SECONDS = 300
DEFAULT_MAX_ATTEMPTS = 3
# $connect releases held jobs before API Gateway has opened the connection; a push in that
# window gets 410. The delay lets $connect finish; the grace keeps a 410 from dropping it.
DEFAULT_RELEASE_DELAY_SECONDS = 2
DEFAULT_CONNECT_GRACE_SECONDS = 10
SQS_MAX_DELAY_SECONDS = 900
# Budgets of ws-message (lambdas/common/ratelimit.py), each counted per agent (creatorId, agentId)
# over all its connections, under a ceiling per creator over all its agents.
# Frames per agent and clock minute. An honest agent sends a heartbeat a minute plus one frame (the
# result; two for older agents: ack, result) per job: 600 a minute (10 a second) is five to ten jobs a
# second, far above what one device's IP should run. The sandbox scales every budget with its speed.
DEFAULT_FRAMES_PER_MINUTE = 600
# Frames per creator and clock minute, all its agents together: five agents at their full budget, or
# hundreds of honest ones. It caps what one creator makes ws-message spend at 50 invocations a second,
# a quarter of the `$default` stage rate (stacks/limits.py checks that against the fleet size).
DEFAULT_CREATOR_FRAMES_PER_MINUTE = 3000
# `logs.upload` forms per agent and UTC day: a support bundle an hour; per creator, a hundred agents' worth.
DEFAULT_LOG_UPLOADS_PER_DAY = 24
DEFAULT_CREATOR_LOG_UPLOADS_PER_DAY = 2400
# `patch.check` frames per agent and clock minute (an agent checks at connect and then every few
# minutes); per creator, what a few hundred agents reconnecting at once after a deploy need.
DEFAULT_PATCH_CHECKS_PER_MINUTE = 2
DEFAULT_CREATOR_PATCH_CHECKS_PER_MINUTE = 600


def budget_environment() -> dict[str, str]:
    """The budgets as Lambda env vars: the stack passes them, the sandbox scales them with its speed."""
    return {
        "FRAMES_PER_MINUTE": str(DEFAULT_FRAMES_PER_MINUTE),
        "CREATOR_FRAMES_PER_MINUTE": str(DEFAULT_CREATOR_FRAMES_PER_MINUTE),
        "LOG_UPLOADS_PER_DAY": str(DEFAULT_LOG_UPLOADS_PER_DAY),
        "CREATOR_LOG_UPLOADS_PER_DAY": str(DEFAULT_CREATOR_LOG_UPLOADS_PER_DAY),
        "PATCH_CHECKS_PER_MINUTE": str(DEFAULT_PATCH_CHECKS_PER_MINUTE),
        "CREATOR_PATCH_CHECKS_PER_MINUTE": str(DEFAULT_CREATOR_PATCH_CHECKS_PER_MINUTE),
    }


# The time-to-assign SLO: a job assigned within this many seconds of being queued is on time.
DEFAULT_ASSIGN_DEADLINE_SECONDS = 60
# The black-box probe's wait for its job (SendMessage to job.assign). The dispatcher's event source
# batches for up to 10 s and a healthy trip takes ~1-2 s more; 30 s is three batching windows, half
# the time-to-assign objective, and leaves the probe's 50 s timeout room for connect and complete.
# The sandbox scales it with its speed, as it does ASSIGN_DEADLINE_SECONDS.
DEFAULT_PROBE_DELIVER_SECONDS = 30


@dataclass(frozen=True)
class Settings:
    stage: str
    jobs_table: str
    agents_table: str
    creator_limits_table: str
    jobs_queue_url: str
    dlq_url: str
    ws_endpoint: str
    patches_bucket: str
    logs_bucket: str
    logs_kms_key_arn: str
    jwt_secret: str
    jwt_secret_arn: str
    lease_seconds: int
    max_attempts: int
    release_delay_seconds: int
    connect_grace_seconds: int
    frames_per_minute: int
    creator_frames_per_minute: int = DEFAULT_CREATOR_FRAMES_PER_MINUTE
    log_uploads_per_day: int = DEFAULT_LOG_UPLOADS_PER_DAY
    creator_log_uploads_per_day: int = DEFAULT_CREATOR_LOG_UPLOADS_PER_DAY
    patch_checks_per_minute: int = DEFAULT_PATCH_CHECKS_PER_MINUTE
    creator_patch_checks_per_minute: int = DEFAULT_CREATOR_PATCH_CHECKS_PER_MINUTE
    assign_deadline_seconds: int = DEFAULT_ASSIGN_DEADLINE_SECONDS
    ws_public_url: str = ""  # the stage's wss:// URL, where agents (and the probe) connect
    probe_deliver_seconds: int = DEFAULT_PROBE_DELIVER_SECONDS

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """Build from an environment mapping; missing names become empty strings."""
        return cls(
            stage=env.get("STAGE", "prod") or "prod",
            jobs_table=env.get("JOBS_TABLE", ""),
            agents_table=env.get("AGENTS_TABLE", ""),
            creator_limits_table=env.get("CREATOR_LIMITS_TABLE", ""),
            jobs_queue_url=env.get("JOBS_QUEUE_URL", ""),
            dlq_url=env.get("DLQ_URL", ""),
            ws_endpoint=env.get("WS_ENDPOINT", ""),
            patches_bucket=env.get("PATCHES_BUCKET", ""),
            logs_bucket=env.get("LOGS_BUCKET", ""),
            logs_kms_key_arn=env.get("LOGS_KMS_KEY_ARN", ""),
            jwt_secret=env.get("WS_JWT_SECRET", ""),
            jwt_secret_arn=env.get("WS_JWT_SECRET_ARN", ""),
            lease_seconds=_int_in(env.get("LEASE_SECONDS"), DEFAULT_LEASE_SECONDS),
            max_attempts=_int_in(env.get("MAX_ATTEMPTS"), DEFAULT_MAX_ATTEMPTS),
            release_delay_seconds=_int_in(
                env.get("RELEASE_DELAY_SECONDS"),
                DEFAULT_RELEASE_DELAY_SECONDS,
                low=0,
                high=SQS_MAX_DELAY_SECONDS,
            ),
            connect_grace_seconds=_int_in(
                env.get("CONNECT_GRACE_SECONDS"), DEFAULT_CONNECT_GRACE_SECONDS, low=0
            ),
            frames_per_minute=_int_in(env.get("FRAMES_PER_MINUTE"), DEFAULT_FRAMES_PER_MINUTE),
            creator_frames_per_minute=_int_in(
                env.get("CREATOR_FRAMES_PER_MINUTE"), DEFAULT_CREATOR_FRAMES_PER_MINUTE
            ),
            log_uploads_per_day=_int_in(env.get("LOG_UPLOADS_PER_DAY"), DEFAULT_LOG_UPLOADS_PER_DAY),
            creator_log_uploads_per_day=_int_in(
                env.get("CREATOR_LOG_UPLOADS_PER_DAY"), DEFAULT_CREATOR_LOG_UPLOADS_PER_DAY
            ),
            patch_checks_per_minute=_int_in(
                env.get("PATCH_CHECKS_PER_MINUTE"), DEFAULT_PATCH_CHECKS_PER_MINUTE
            ),
            creator_patch_checks_per_minute=_int_in(
                env.get("CREATOR_PATCH_CHECKS_PER_MINUTE"), DEFAULT_CREATOR_PATCH_CHECKS_PER_MINUTE
            ),
            assign_deadline_seconds=_int_in(
                env.get("ASSIGN_DEADLINE_SECONDS"), DEFAULT_ASSIGN_DEADLINE_SECONDS
            ),
            ws_public_url=env.get("WS_PUBLIC_URL", ""),
            probe_deliver_seconds=_int_in(env.get("PROBE_DELIVER_SECONDS"), DEFAULT_PROBE_DELIVER_SECONDS),
        )


def _int_in(raw: str | None, default: int, *, low: int = 1, high: int | None = None) -> int:
    # A typo in a tunable must not take the function down: fall back to the documented default.
    try:
        value = int(raw) if raw else default
    except ValueError:
        return default
    return value if value >= low and (high is None or value <= high) else default


def settings() -> Settings:
    """The current settings (cheap: a handful of environ reads)."""
    return Settings.from_env(os.environ)


def int_setting(raw: str | None, default: int, *, low: int = 1, high: int | None = None) -> int:
    """A whole-number tunable from the environment: `default` when missing, malformed or out of range."""
    return _int_in(raw, default, low=low, high=high)
