"""Alert routing settings: ticket email, pager HTTPS endpoint, Slack / Teams through AWS Chatbot."""

from __future__ import annotations

import pytest

from contract.config import Config, ConfigError

SLACK = {"SLACK_WORKSPACE_ID": "T0123ABCDE", "SLACK_CHANNEL_ID": "C0123ABCDE"}
TEAMS = {
    "TEAMS_TENANT_ID": "0a1b2c3d-0000-4000-8000-0123456789ab",
    "TEAMS_TEAM_ID": "1a1b2c3d-0000-4000-8000-0123456789ab",
    "TEAMS_CHANNEL_ID": "19:abcDEF0123@thread.tacv2",
}


def from_sources(context=None, environ=None):
    context = context or {}
    return Config.from_sources(context.get, environ or {})


def test_nothing_configured_means_no_extra_subscriber():
    config = from_sources()
    assert (config.ops_tickets_email, config.pager_https_url, config.slack, config.teams) == (
        None,
        None,
        False,
        False,
    )


def test_every_routing_setting_from_env_and_context():
    config = from_sources(
        context={"pagerHttpsUrl": "https://events.pagerduty.com/integration/abc/enqueue"},
        environ={"OPS_TICKETS_EMAIL": "tickets@example.com", **SLACK, **TEAMS},
    )
    assert config.ops_tickets_email == "tickets@example.com"
    assert config.pager_https_url == "https://events.pagerduty.com/integration/abc/enqueue"
    assert (config.slack_workspace_id, config.slack_channel_id) == ("T0123ABCDE", "C0123ABCDE")
    assert config.teams_channel_id == "19:abcDEF0123@thread.tacv2"
    assert config.teams_channel_encoded == "19%3AabcDEF0123%40thread.tacv2"
    encoded = from_sources(environ={**TEAMS, "TEAMS_CHANNEL_ID": "19%3aabcDEF0123%40thread.tacv2"})
    assert encoded.teams_channel_encoded == "19%3AabcDEF0123%40thread.tacv2"
    assert config.slack and config.teams


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        (
            {"PAGER_HTTPS_URL": "http://pager.example.com/hook"},
            "invalid PAGER_HTTPS_URL 'http://pager.example.com/hook': "
            "expected https://<host>/<path> (SNS HTTPS subscription; http is not allowed)",
        ),
        (
            {"PAGER_HTTPS_URL": "https:///nohost"},
            "invalid PAGER_HTTPS_URL 'https:///nohost': "
            "expected https://<host>/<path> (SNS HTTPS subscription; http is not allowed)",
        ),
        (
            {"OPS_TICKETS_EMAIL": "tickets"},
            "invalid OPS_TICKETS_EMAIL 'tickets': expected an address like ops@example.com",
        ),
        (
            {"SLACK_WORKSPACE_ID": "T0123ABCDE"},
            "incomplete chat settings SLACK_WORKSPACE_ID: "
            "set all of SLACK_WORKSPACE_ID + SLACK_CHANNEL_ID or none",
        ),
        (
            {**SLACK, "SLACK_CHANNEL_ID": "#ops"},
            "invalid SLACK_CHANNEL_ID '#ops': expected C0123ABCDE (as AWS Chatbot shows it)",
        ),
        (
            {**TEAMS, "TEAMS_TENANT_ID": "contoso"},
            "invalid TEAMS_TENANT_ID 'contoso': expected a GUID (as AWS Chatbot shows it)",
        ),
        (
            {"TEAMS_CHANNEL_ID": TEAMS["TEAMS_CHANNEL_ID"]},
            "incomplete chat settings TEAMS_CHANNEL_ID: "
            "set all of TEAMS_TENANT_ID + TEAMS_TEAM_ID + TEAMS_CHANNEL_ID or none",
        ),
    ],
)
def test_each_bad_routing_value_is_one_clear_line(environ, message):
    with pytest.raises(ConfigError) as raised:
        from_sources(environ=environ)
    assert str(raised.value) == message
    assert "\n" not in str(raised.value)
