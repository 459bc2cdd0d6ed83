"""`byoip dlq sample`, `token`, `runbook render` and `triage` through the root app, against moto."""

import json

import boto3
import jwt
import pytest

from lambdas.common.auth import key_for, verify_token
from lambdas.common.keys import key_id
from lambdas.common.settings import Settings
from tests.automation.conftest import ACCOUNT, REGION, one_error_line, put_alarm

KEY = "k" * 32
ARN_SHAPE = "(expected arn:aws:sqs:<region>:<12-digit account>:<queue name>)"
STAGE_RULE = "use 1-20 lowercase letters, digits or '-', starting with a letter (e.g. prod, staging, local)"
ID_RULE = "(1-128 characters of A-Z a-z 0-9 _ . : -, starting with a letter or digit)"
MISSING_SECRET = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:missing"


def _stage_queues(sqs, stage="t"):
    urls = {
        s: sqs.create_queue(QueueName=f"byoip-{stage}-{s}")["QueueUrl"]
        for s in ("jobs-dlq", "jobs-quarantine")
    }
    urls["jobs"] = sqs.create_queue(QueueName=f"byoip-{stage}-jobs")["QueueUrl"]
    return urls


def _fill_dlq(sqs, url):
    sqs.send_message(QueueUrl=url, MessageBody="{oops")
    sqs.send_message(
        QueueUrl=url,
        MessageBody=json.dumps({"jobId": "j2", "agentId": "a2"}),
        MessageAttributes={"reason": {"DataType": "String", "StringValue": "agent_missing"}},
    )
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"jobId": "j3", "agentId": "a3"}))


# ---- dlq sample ----


def test_dlq_sample_classifies_and_deletes_nothing(cli, sqs):
    urls = _stage_queues(sqs)
    _fill_dlq(sqs, urls["jobs-dlq"])

    result = cli("dlq", "sample", "--stage", "t", "--region", REGION, "--count", "10")

    assert result.exit_code == 0, result.output
    assert "byoip-t-jobs-dlq: 3 message(s) peeked, none deleted" in result.stdout
    assert result.stdout.strip().splitlines()[-1] == "by class: agent_missing=1, json_invalid=1, transient=1"
    visible = sqs.get_queue_attributes(
        QueueUrl=urls["jobs-dlq"], AttributeNames=["ApproximateNumberOfMessages"]
    )
    assert visible["Attributes"]["ApproximateNumberOfMessages"] == "3"


def test_dlq_sample_reads_any_queue_by_arn(cli, sqs):
    urls = _stage_queues(sqs)
    sqs.send_message(QueueUrl=urls["jobs-quarantine"], MessageBody="[1, 2]")

    result = cli("dlq", "sample", "--queue-arn", f"arn:aws:sqs:{REGION}:{ACCOUNT}:byoip-t-jobs-quarantine")

    assert result.exit_code == 0, result.output
    assert "[1, 2]" in result.stdout
    assert result.stdout.strip().splitlines()[-1] == "by class: json_invalid=1"


def test_dlq_sample_refuses_a_queue_with_a_redrive_policy(cli, sqs):
    urls = _stage_queues(sqs)
    dlq_arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:byoip-t-jobs-dlq"
    sqs.set_queue_attributes(
        QueueUrl=urls["jobs"],
        Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "5"})},
    )
    sqs.send_message(QueueUrl=urls["jobs"], MessageBody="{}")

    result = cli(
        "dlq", "sample", "--queue-arn", f"arn:aws:sqs:{REGION}:{ACCOUNT}:byoip-t-jobs", "--region", REGION
    )

    assert result.exit_code == 2
    assert one_error_line(result) == (
        "error: byoip-t-jobs has a redrive policy: peeking would count as a receive and move messages toward "
        "its DLQ; sample its DLQ or the quarantine queue instead"
    )
    received = sqs.get_queue_attributes(QueueUrl=urls["jobs"], AttributeNames=["ApproximateNumberOfMessages"])
    assert received["Attributes"]["ApproximateNumberOfMessages"] == "1"


def test_dlq_sample_of_an_empty_queue(cli, sqs):
    _stage_queues(sqs)
    result = cli("dlq", "sample", "--stage", "t", "--region", REGION)
    assert (result.exit_code, result.stdout) == (0, "byoip-t-jobs-dlq: no visible messages\n")


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["--stage", "t", "--count", "11"],
            "error: --count 11 is outside 1-10 (SQS returns at most 10 messages per receive)",
        ),
        (
            ["--stage", "t", "--queue-arn", "arn:aws:sqs:us-east-1:123456789012:q"],
            "error: name exactly one queue: --stage <stage> (its DLQ) or --queue-arn <arn>",
        ),
        ([], "error: name exactly one queue: --stage <stage> (its DLQ) or --queue-arn <arn>"),
        (
            ["--queue-arn", "q"],
            f"error: --queue-arn 'q' is not an SQS queue ARN {ARN_SHAPE}",
        ),
        (
            ["--stage", "Prod!"],
            f"error: invalid STAGE 'Prod!': {STAGE_RULE}",
        ),
        (["--stage", "nope"], f"error: queue byoip-nope-jobs-dlq does not exist in {REGION}"),
    ],
)
def test_dlq_sample_bad_input(cli, aws, args, message):
    result = cli("dlq", "sample", "--region", REGION, *args)
    assert result.exit_code == 2
    assert one_error_line(result) == message


# ---- token ----


def test_token_is_accepted_by_ws_connect(cli, aws):
    result = cli(
        "token", "--agent-id", "agent-1", "--creator-id", "creator-9", "--ttl", "900", "--secret", KEY
    )

    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    identity = verify_token(token, key_for(token, Settings.from_env({"WS_JWT_SECRET": KEY})))
    assert (identity.agent_id, identity.creator_id) == ("agent-1", "creator-9")
    # the key id is printed apart (stderr), so the token can be captured alone
    assert result.stderr.strip().splitlines() == [f"kid: {key_id(KEY)}"]


def test_token_key_from_secrets_manager(cli, aws):
    arn = boto3.client("secretsmanager", region_name=REGION).create_secret(
        Name="byoip/t/ws-jwt", SecretString=KEY
    )["ARN"]

    result = cli("token", "--agent-id", "a", "--creator-id", "c", "--secret-arn", arn, "--region", REGION)

    assert result.exit_code == 0, result.output
    assert verify_token(result.stdout.strip(), KEY).agent_id == "a"
    # signed with the secret's current version, named by its kid
    assert jwt.get_unverified_header(result.stdout.strip())["kid"] == key_id(KEY)


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["--ttl", "901", "--secret", KEY],
            "error: --ttl 901 is outside 1-900 seconds (ws-connect rejects longer-lived tokens)",
        ),
        (
            ["--ttl", "0", "--secret", KEY],
            "error: --ttl 0 is outside 1-900 seconds (ws-connect rejects longer-lived tokens)",
        ),
        (["--secret", "short"], "error: the signing key is 5 bytes; HS256 keys must be at least 32 bytes"),
        ([], "error: give the signing key exactly one way: --secret (or WS_JWT_SECRET) or --secret-arn"),
        (
            ["--secret", KEY, "--secret-arn", "arn:x"],
            "error: give the signing key exactly one way: --secret (or WS_JWT_SECRET) or --secret-arn",
        ),
        (
            ["--secret-arn", MISSING_SECRET, "--region", REGION],
            f"error: cannot read --secret-arn {MISSING_SECRET} "
            "(ResourceNotFoundException: Secrets Manager can't find the specified secret.)",
        ),
    ],
)
def test_token_bad_input(cli, aws, monkeypatch, args, message):
    monkeypatch.delenv("WS_JWT_SECRET", raising=False)
    result = cli("token", "--agent-id", "a", "--creator-id", "c", *args)
    assert result.exit_code == 2
    assert one_error_line(result) == message


def test_token_takes_the_region_from_the_secret_arn(cli, aws):
    arn = boto3.client("secretsmanager", region_name="eu-west-3").create_secret(
        Name="byoip/t/ws-jwt", SecretString=KEY
    )["ARN"]

    result = cli("token", "--agent-id", "a", "--creator-id", "c", "--secret-arn", arn)  # env: us-east-1

    assert result.exit_code == 0, result.output
    assert verify_token(result.stdout.strip(), KEY).agent_id == "a"
    # signed with the secret's current version, named by its kid
    assert jwt.get_unverified_header(result.stdout.strip())["kid"] == key_id(KEY)


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["--secret-arn", "bogus"],
            "error: --secret-arn 'bogus' is not a Secrets Manager secret ARN "
            "(expected arn:aws:secretsmanager:<region>:<12-digit account>:secret:<name>)",
        ),
        (
            ["--secret-arn", "arn:aws:sqs:us-east-1:123456789012:secret:x"],
            "error: --secret-arn 'arn:aws:sqs:us-east-1:123456789012:secret:x' is not a Secrets Manager "
            "secret ARN (expected arn:aws:secretsmanager:<region>:<12-digit account>:secret:<name>)",
        ),
        (
            ["--secret-arn", "arn:aws:secretsmanager:eu-west-3:123456789012:secret:k", "--region", REGION],
            f"error: --secret-arn is in eu-west-3 but --region is {REGION}: drop --region or use eu-west-3",
        ),
    ],
    ids=["not-an-arn", "other-service", "region-mismatch"],
)
def test_token_checks_the_secret_arn_before_calling_aws(cli, monkeypatch, args, message):
    monkeypatch.setitem(cli.overrides, "secretsmanager", None)  # any AWS call would fail loudly
    monkeypatch.delenv("WS_JWT_SECRET", raising=False)
    result = cli("token", "--agent-id", "a", "--creator-id", "c", *args)
    assert result.exit_code == 2
    assert one_error_line(result) == message


def test_token_rejects_a_bad_agent_id(cli, aws):
    result = cli("token", "--agent-id", "a b", "--creator-id", "c", "--secret", KEY)
    assert result.exit_code == 2
    assert one_error_line(result) == (f"error: --agent-id 'a b' is not an id {ID_RULE}")


def test_token_refuses_the_probes_reserved_creator(cli, aws):
    result = cli("token", "--agent-id", "probe-1", "--creator-id", "byoip:probe", "--secret", KEY)
    assert result.exit_code == 2
    assert one_error_line(result) == (
        "error: --creator-id byoip:probe is reserved for the black-box probe (ws-connect refuses it)"
    )


# ---- runbook render ----


def test_runbook_render_to_file(cli, tmp_path):
    out = tmp_path / "rb" / "staging.md"

    result = cli(
        "runbook",
        "render",
        "--stage",
        "staging",
        "--region",
        "eu-west-1",
        "--account",
        "111122223333",
        "--out",
        out,
    )

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"wrote {out} (")
    text = out.read_text()
    assert text.startswith("# BYO-IP triage runbook: stage `staging`")
    assert "arn:aws:sqs:eu-west-1:111122223333:byoip-staging-jobs-dlq" in text


def test_runbook_render_into_a_directory_uses_the_published_layout(cli, tmp_path):
    result = cli(
        "runbook",
        "render",
        "--stage",
        "prod",
        "--region",
        "eu-west-1",
        "--account",
        ACCOUNT,
        "--out",
        tmp_path,
    )

    out = tmp_path / "prod" / "runbook.md"
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"wrote {out} (")
    assert f"arn:aws:sqs:eu-west-1:{ACCOUNT}:byoip-prod-jobs-dlq" in out.read_text()


def test_runbook_render_into_a_directory_that_does_not_exist_yet_creates_it(cli, tmp_path):
    # GIVEN an empty cdk.out/ (what `make synth` sees on a fresh clone)
    target = tmp_path / "cdk.out" / "runbooks"
    # WHEN the runbook is rendered into cdk.out/runbooks
    result = cli("runbook", "render", "--stage", "staging", "--region", "eu-west-1", "--out", target)
    # THEN it lands at <dir>/<stage>/runbook.md, not in a file named like the directory
    out = target / "staging" / "runbook.md"
    assert result.exit_code == 0, result.output
    assert target.is_dir() and sorted(p.name for p in target.iterdir()) == ["staging"]
    assert out.read_text().startswith("# BYO-IP triage runbook: stage `staging`")


def test_runbook_render_to_an_unwritable_place_is_one_line(cli, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    out = blocker / "rb.md"
    result = cli(
        "runbook", "render", "--stage", "prod", "--region", "eu-west-1", "--account", ACCOUNT, "--out", out
    )
    assert result.exit_code == 2
    assert one_error_line(result) == f"error: cannot write --out {out}: File exists ({blocker})"


def test_runbook_render_to_stdout_with_the_environment_region(cli, monkeypatch):
    monkeypatch.setenv("AWS_REGION", "us-west-2")
    result = cli("runbook", "render", "--stage", "prod")
    assert result.exit_code == 0
    assert result.stdout.startswith("# BYO-IP triage runbook: stage `prod`")
    assert "(region `us-west-2`, account `<account>`)" in result.stdout
    assert result.stderr == "note: no --account given; ARNs show <account>\n"


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["--stage", "Prod"],
            f"error: invalid STAGE 'Prod': {STAGE_RULE}",
        ),
        (["--stage", "prod", "--account", "12"], "error: --account '12' is not a 12-digit AWS account id"),
    ],
)
def test_runbook_render_bad_input(cli, args, message):
    result = cli("runbook", "render", "--region", "eu-west-1", *args)
    assert result.exit_code == 2
    assert one_error_line(result) == message


def test_runbook_render_needs_a_region(cli, monkeypatch, tmp_path):
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))  # no profile region either
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    result = cli("runbook", "render", "--stage", "prod")
    assert result.exit_code == 2
    assert one_error_line(result) == "error: no AWS region: pass --region or set AWS_REGION"


# ---- triage ----


def test_triage_one_screen(cli, sqs, cloudwatch):
    urls = _stage_queues(sqs)
    _fill_dlq(sqs, urls["jobs-dlq"])
    sqs.send_message(QueueUrl=urls["jobs"], MessageBody="{}")
    put_alarm(cloudwatch, "BYOIP-t-DLQNotEmpty", "ALARM")

    result = cli("triage", "--stage", "t", "--region", REGION)

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    row = next(line for line in lines if "BYOIP-t-DLQNotEmpty" in line)
    assert "ALARM" in row and row.rstrip("│ ").endswith("A")
    assert "MISSING" in next(line for line in lines if "BYOIP-t-Backlog" in line)
    assert [
        c.strip() for c in next(line for line in lines if "byoip-t-jobs-dlq" in line).split("│")[1:4]
    ] == ["byoip-t-jobs-dlq", "3", "0"]
    assert (
        "DLQ sample of 3: agent_missing=1, json_invalid=1, transient=1; dispatcher reasons: agent_missing=1"
        in lines
    )


def test_triage_names_a_missing_queue(cli, aws):
    result = cli("triage", "--stage", "t", "--region", REGION)
    assert result.exit_code == 2
    assert one_error_line(result) == f"error: queue byoip-t-jobs does not exist in {REGION}"


# ---- root app ----


def test_root_app_mounts_every_command_and_sub_app(cli):
    result = cli("--help")
    assert result.exit_code == 0
    commands = {
        line.split()[1]
        for line in result.stdout.splitlines()
        if line.startswith("│ ") and len(line.split()) > 2
    }
    assert {"redrive", "token", "triage", "dlq", "runbook", "alarms", "sandbox"} <= commands
    for sub_app in ("alarms", "sandbox", "dlq", "runbook"):
        assert cli(sub_app, "--help").exit_code == 0, sub_app
