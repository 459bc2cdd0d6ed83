"""`byoip deploy-check` on recorded change sets: stateful replacements and deletions are refused."""

import json
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber

from automation.change_set import BadChangeSet, refusals
from contract.stateful import STATEFUL_TYPES
from tests.automation.conftest import REGION, one_error_line

CHANGE_SETS = Path(__file__).with_name("change_sets")
HINT = (
    "error: refusing to deploy: 1 stateful resource(s) would be replaced or deleted; if that is intended, "
    "name each with --allow-replace <LogicalId> (make deploy ALLOW_REPLACE=…)"
)


def check(cli, name, *extra):
    return cli("deploy-check", "--change-set", CHANGE_SETS / name, *extra)


@pytest.mark.parametrize(
    ("recorded", "line"),
    [
        (
            "table_replaced.json",
            "StorageJobsTable47C44CDA (AWS::DynamoDB::Table) would be replaced (Replacement: True)",
        ),
        (
            # The stage also shows Conditional, but a stage is not stateful (same name, same URL).
            "api_conditional.json",
            "RealtimeWsApiC508F85A (AWS::ApiGatewayV2::Api) may be replaced (Replacement: Conditional), "
            "treated as a replacement",
        ),
        ("queue_deleted.json", "JobsJobsQueue71AFC10C (AWS::SQS::Queue) would be deleted (Action: Remove)"),
        # This app deployed over the TypeScript original's stack: its queue (and the jobs in it) go.
        ("over_original_stack.json", "JobsQueue86ED6666 (AWS::SQS::Queue) would be deleted (Action: Remove)"),
    ],
    ids=["table-replaced", "api-conditional", "queue-deleted", "over-original"],
)
def test_a_stateful_replacement_or_deletion_is_refused(cli, recorded, line):
    result = check(cli, recorded)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [f"refused: {line}", HINT]
    assert result.stdout == ""


def test_retained_removal_and_dynamic_changes_are_refused_one_line_each(cli):
    result = check(cli, "log_group_retained_removal.json")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "refused: DispatcherLogGroupA314EB82 (AWS::Logs::LogGroup) would be removed from the stack "
        "(DeletionPolicy Retain: kept, but no longer managed)",
        "refused: StorageWsJwtSecret566E68C5 (AWS::SecretsManager::Secret) has a change CloudFormation "
        "cannot determine before executing (Action: Dynamic), treated as a replacement",
        HINT.replace("1 stateful", "2 stateful"),
    ]


def test_in_place_modifications_and_stateless_replacements_pass(cli):
    result = check(cli, "modify_in_place.json")
    assert result.exit_code == 0, result.output
    assert result.stdout == "ok: 6 resource change(s), no stateful resource replaced or deleted\n"
    assert result.stderr == ""


def test_an_allowed_id_passes_and_is_named(cli):
    result = check(cli, "table_replaced.json", "--allow-replace", "StorageJobsTable47C44CDA")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "allowed: StorageJobsTable47C44CDA (--allow-replace)",
        "ok: 2 resource change(s), no stateful resource replaced or deleted except 1 allowed",
    ]


def test_allowing_one_id_does_not_allow_another(cli):
    result = check(cli, "log_group_retained_removal.json", "--allow-replace", "DispatcherLogGroupA314EB82")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0].startswith("refused: StorageWsJwtSecret566E68C5 ")
    assert len(result.stderr.splitlines()) == 2


def test_an_allowed_id_that_matches_nothing_is_noted(cli):
    result = check(cli, "modify_in_place.json", "--allow-replace", "StorageJobsTabel")
    assert result.exit_code == 0
    assert result.stderr == "note: --allow-replace StorageJobsTabel matches no replacement or deletion\n"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", "is not JSON (Expecting property name enclosed in double quotes at line 1)"),
        ('{"Stacks": []}', 'not a describe-change-set answer: no "Changes" list'),
    ],
)
def test_bad_files_are_one_line_exit_2(cli, tmp_path, content, expected):
    path = tmp_path / "cs.json"
    path.write_text(content)
    result = cli("deploy-check", "--change-set", path)
    assert result.exit_code == 2
    assert one_error_line(result).endswith(expected)


def test_a_missing_file_is_one_line_exit_2(cli, tmp_path):
    result = cli("deploy-check", "--change-set", tmp_path / "missing.json")
    assert result.exit_code == 2
    missing = tmp_path / "missing.json"
    assert one_error_line(result) == f"error: cannot read --change-set {missing}: No such file or directory"


def test_a_name_needs_its_stack(cli):
    result = cli("deploy-check", "--change-set", "byoip-deploy", "--region", REGION)
    assert result.exit_code == 2
    assert one_error_line(result) == (
        "error: a change set given by name needs its stack: pass exactly one of --stage or --stack-name"
    )


def _stubbed(cli, pages, stack):
    cfn = boto3.client("cloudformation", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    stub = Stubber(cfn)
    token = None
    for i, page in enumerate(pages):
        params = {"StackName": stack, "ChangeSetName": "byoip-deploy"}
        if token:
            params["NextToken"] = token
        token = f"page{i + 2}" if i + 1 < len(pages) else None
        stub.add_response("describe_change_set", {**page, **({"NextToken": token} if token else {})}, params)
    stub.activate()
    cli.overrides["cloudformation"] = cfn
    return stub


def test_a_change_set_by_name_reads_every_page(cli):
    recorded = json.loads((CHANGE_SETS / "table_replaced.json").read_text())
    first = {**recorded, "Changes": recorded["Changes"][:1]}
    second = {**recorded, "Changes": recorded["Changes"][1:]}
    stub = _stubbed(cli, [first, second], "HuntazeByoIpStack-staging")
    result = cli("deploy-check", "--change-set", "byoip-deploy", "--stage", "staging", "--region", REGION)
    stub.assert_no_pending_responses()
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0].startswith("refused: StorageJobsTable47C44CDA ")


def test_a_failed_change_set_is_refused_with_its_reason(cli):
    recorded = json.loads((CHANGE_SETS / "modify_in_place.json").read_text())
    reason = "Template format error: Unresolved resource dependencies [Missing] in the Resources block"
    _stubbed(cli, [{**recorded, "Status": "FAILED", "StatusReason": reason}], "OtherStack")
    args = ("--change-set", "byoip-deploy", "--stack-name", "OtherStack", "--region", REGION)
    result = cli("deploy-check", *args)
    assert result.exit_code == 1
    assert one_error_line(result) == f"error: change set byoip-deploy on OtherStack FAILED: {reason}"


def test_an_empty_change_set_is_nothing_to_deploy_exit_3(cli):
    empty = {
        **json.loads((CHANGE_SETS / "modify_in_place.json").read_text()),
        "Changes": [],
        "Status": "FAILED",
        "StatusReason": "The submitted information didn't contain changes. Submit different information "
        "to create a change set.",
    }
    _stubbed(cli, [empty], "HuntazeByoIpStack-staging")
    result = cli("deploy-check", "--change-set", "byoip-deploy", "--stage", "staging", "--region", REGION)
    assert result.exit_code == 3
    stack = "HuntazeByoIpStack-staging"
    assert result.stdout == f"nothing to deploy: change set byoip-deploy on {stack} is empty\n"


def test_refusals_reject_a_non_answer():
    with pytest.raises(BadChangeSet):
        refusals([{"Changes": []}, "page"])


@pytest.mark.parametrize("cfn_type", sorted(STATEFUL_TYPES))
def test_the_check_covers_every_type_the_snapshot_covers(cfn_type):
    # contract/stateful.py is the one list: what the snapshot guards, the deploy check refuses.
    removal = {
        "Changes": [
            {
                "Type": "Resource",
                "ResourceChange": {
                    "Action": "Remove",
                    "LogicalResourceId": "X",
                    "ResourceType": cfn_type,
                    "PolicyAction": "Delete",
                },
            }
        ]
    }
    assert [r.line() for r in refusals(removal)] == [
        f"refused: X ({cfn_type}) would be deleted (Action: Remove)"
    ]
    stateless = {
        "Changes": [
            {
                "Type": "Resource",
                "ResourceChange": {
                    **removal["Changes"][0]["ResourceChange"],
                    "ResourceType": "AWS::Lambda::Function",
                },
            }
        ]
    }
    assert refusals(stateless) == []
