"""Config: CDK context beats env vars beats defaults; every bad value is one clear line."""

from __future__ import annotations

import pytest

from contract.config import Config, ConfigError


def from_sources(context=None, environ=None):
    context = context or {}
    return Config.from_sources(context.get, environ or {})


def test_defaults_when_nothing_is_set():
    config = from_sources()
    assert config == Config(
        stage="prod", alert_mode="composite", ops_alerts_email=None, runbook_base_url=None
    )
    assert config.stack_name == "HuntazeByoIpStack-prod"  # never the original's HuntazeByoIpStack
    assert config.prefix == "byoip-prod"


def test_env_vars_override_defaults():
    config = from_sources(
        environ={
            "STAGE": "staging",
            "ALERT_MODE": "all",
            "OPS_ALERTS_EMAIL": "ops@example.com",
            "RUNBOOK_BASE_URL": "https://runbooks.example.com/byoip",
        }
    )
    assert config == Config("staging", "all", "ops@example.com", "https://runbooks.example.com/byoip")
    assert config.stack_name == "HuntazeByoIpStack-staging"
    assert config.prefix == "byoip-staging"


def test_context_overrides_env_vars():
    config = from_sources(
        context={
            "stage": "dev",
            "alertMode": "composite",
            "opsAlertsEmail": "sre@example.org",
            "runbookBaseUrl": "https://wiki.example.org/rb",
        },
        environ={
            "STAGE": "staging",
            "ALERT_MODE": "all",
            "OPS_ALERTS_EMAIL": "ops@example.com",
            "RUNBOOK_BASE_URL": "https://runbooks.example.com",
        },
    )
    assert config == Config("dev", "composite", "sre@example.org", "https://wiki.example.org/rb")


def test_empty_context_value_falls_back_to_env_and_values_are_trimmed():
    config = from_sources(context={"stage": ""}, environ={"STAGE": " qa ", "ALERT_MODE": ""})
    assert (config.stage, config.alert_mode) == ("qa", "composite")


@pytest.mark.parametrize(
    ("context", "environ", "message"),
    [
        (
            {"alertMode": "bogus"},
            {},
            "invalid ALERT_MODE 'bogus': allowed values are composite | all",
        ),
        (
            {},
            {"ALERT_MODE": "ALL"},
            "invalid ALERT_MODE 'ALL': allowed values are composite | all",
        ),
        (
            {"stage": "Prod"},
            {},
            "invalid STAGE 'Prod': use 1-20 lowercase letters, digits or '-', "
            "starting with a letter (e.g. prod, staging, local)",
        ),
        (
            {},
            {"STAGE": "9lives"},
            "invalid STAGE '9lives': use 1-20 lowercase letters, digits or '-', "
            "starting with a letter (e.g. prod, staging, local)",
        ),
        (
            {},
            {"STAGE": "a" * 21},
            f"invalid STAGE '{'a' * 21}': use 1-20 lowercase letters, digits or '-', "
            "starting with a letter (e.g. prod, staging, local)",
        ),
        (
            {"opsAlertsEmail": "not-an-email"},
            {},
            "invalid OPS_ALERTS_EMAIL 'not-an-email': expected an address like ops@example.com",
        ),
        (
            {},
            {"RUNBOOK_BASE_URL": "http://plain.example.com"},
            "invalid RUNBOOK_BASE_URL 'http://plain.example.com': it must start with https://",
        ),
    ],
)
def test_each_invalid_value_is_one_clear_line(context, environ, message):
    with pytest.raises(ConfigError) as raised:
        from_sources(context, environ)
    assert str(raised.value) == message
    assert "\n" not in str(raised.value)


def test_config_is_frozen():
    config = from_sources()
    with pytest.raises(AttributeError):
        config.stage = "staging"  # type: ignore[misc]
