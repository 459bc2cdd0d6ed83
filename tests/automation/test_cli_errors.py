"""Failures through the real entry point (automation.cli:main): one `error:` line and an exit code."""

import pytest

from automation import cli as root
from automation import clients
from tests.automation.conftest import ACCOUNT, REGION, one_error_line

DLQ_ARN = f"arn:aws:sqs:{REGION}:{ACCOUNT}:byoip-prod-jobs-dlq"
MAIN_ARN = f"arn:aws:sqs:{REGION}:{ACCOUNT}:byoip-prod-jobs"
SECRET_ARN = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:byoip/prod/ws-jwt-AbCdEf"
REDRIVE = ["redrive", "--source-arn", DLQ_ARN, "--destination-arn", MAIN_ARN, "--region", REGION]
TOKEN = ["token", "--agent-id", "a", "--creator-id", "c"]
NO_CREDENTIALS = (
    "error: no AWS credentials: configure a profile (AWS_PROFILE) or set AWS_ACCESS_KEY_ID "
    "(NoCredentialsError: Unable to locate credentials)"
)


@pytest.fixture
def no_aws_setup(monkeypatch, tmp_path):
    """No credentials or region anywhere: environment, config files, instance metadata."""
    for key in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_ENDPOINT_URL",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "WS_JWT_SECRET",
    ):
        monkeypatch.delenv(key, raising=False)
    for key in ("AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        empty = tmp_path / key.lower()
        empty.write_text("")
        monkeypatch.setenv(key, str(empty))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no wait on 169.254.169.254
    return tmp_path


@pytest.mark.parametrize(
    "args",
    [
        [*REDRIVE, "--dry-run"],
        [*REDRIVE, "--yes"],
        ["dlq", "sample", "--stage", "prod", "--region", REGION],
        ["triage", "--stage", "prod", "--region", REGION],
        [*TOKEN, "--secret-arn", SECRET_ARN],
    ],
    ids=["redrive-dry-run", "redrive-yes", "dlq-sample", "triage", "token"],
)
def test_no_credentials_is_one_line_exit_2(cli, no_aws_setup, args):
    result = cli(*args)
    assert result.exit_code == 2
    assert one_error_line(result) == NO_CREDENTIALS
    assert result.stdout == ""


def test_no_region_anywhere_is_one_line_exit_2(cli, no_aws_setup):
    result = cli("dlq", "sample", "--stage", "prod")
    assert result.exit_code == 2
    assert one_error_line(result) == "error: no AWS region: pass --region or set AWS_REGION"


def test_region_comes_from_the_profile_config(cli, no_aws_setup, monkeypatch):
    config = no_aws_setup / "config"
    config.write_text("[default]\nregion = ap-south-1\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    assert clients.default_region() == "ap-south-1"
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-3")
    assert clients.default_region() == "eu-west-3"
    monkeypatch.setenv("AWS_REGION", "us-west-2")
    assert clients.default_region() == "us-west-2"


@pytest.mark.parametrize(
    "args",
    [
        [*REDRIVE[:-1], "xx", "--dry-run"],
        ["dlq", "sample", "--stage", "prod", "--region", "xx"],
        ["triage", "--stage", "prod", "--region", "xx"],
        ["runbook", "render", "--stage", "prod", "--region", "xx"],
        [*TOKEN, "--secret-arn", SECRET_ARN, "--region", "xx"],
    ],
    ids=["redrive", "dlq-sample", "triage", "runbook", "token"],
)
def test_garbage_region_is_refused_before_any_call(cli, no_aws_setup, args):
    result = cli(*args)
    assert result.exit_code == 2
    assert one_error_line(result) == (
        "error: --region 'xx' is not an AWS region name (expected e.g. us-east-1 or eu-west-3)"
    )


def test_garbage_configured_region_is_named(cli, no_aws_setup, monkeypatch):
    monkeypatch.setenv("AWS_REGION", "US_EAST_1")
    result = cli("triage", "--stage", "prod")
    assert result.exit_code == 2
    assert one_error_line(result) == (
        "error: the configured region 'US_EAST_1' is not an AWS region name "
        "(expected e.g. us-east-1 or eu-west-3)"
    )


@pytest.mark.parametrize(
    "args, message",
    [
        (
            [*REDRIVE, "--max-pps", "abc"],
            "error: Invalid value for '--max-pps': Input should be a valid integer, "
            "unable to parse string as an integer",
        ),
        (
            [*TOKEN, "--ttl", "abc"],
            "error: Invalid value for '--ttl': Input should be a valid integer, "
            "unable to parse string as an integer",
        ),
        ([*REDRIVE, "--bogus"], "error: No such option: --bogus"),
        (["redrive", "--source-arn", DLQ_ARN], "error: Missing option '--destination-arn'."),
        (["sandbox", "--bogus"], "error: No such option: --bogus"),
        (["alarms", "list", "--bogus"], "error: No such option: --bogus"),
        (["nosuchcommand"], "error: No such command 'nosuchcommand'."),
    ],
    ids=["max-pps", "ttl", "unknown-option", "missing-option", "sandbox", "alarms", "command"],
)
def test_usage_errors_are_one_line_exit_2(cli, args, message):
    result = cli(*args)
    assert result.exit_code == 2
    assert one_error_line(result) == message
    assert result.stdout == ""


def test_help_is_intact_and_flags_show_no_value(cli):
    result = cli("redrive", "--help")
    assert result.exit_code == 0
    assert "Usage: byoip redrive [OPTIONS]" in result.stdout
    flag_lines = [
        line
        for line in result.stdout.splitlines()
        if any(f in line for f in ("--wait", "--yes", "--dry-run"))
    ]
    assert len(flag_lines) == 3, result.stdout
    assert "--no-wait" in flag_lines[0]
    assert not any("<bool>" in line for line in flag_lines)


def test_bare_group_shows_its_help(cli):
    result = cli("dlq")
    assert result.exit_code == 2
    assert "Usage: byoip dlq [OPTIONS] COMMAND [ARGS]..." in result.stdout


def test_ctrl_c_is_one_line_exit_130(cli, monkeypatch):
    def interrupted(*_args, **_kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("automation.commands.token.mint_token", interrupted)
    result = cli(*TOKEN, "--secret", "k" * 40)
    assert result.exit_code == root.INTERRUPTED == 130
    assert result.stderr.splitlines() == ["interrupted"]
