"""Safety net for refactors: no stateful resource changes its logical id or identity by accident.

Renaming a construct renames its logical id, and CloudFormation then creates a new table,
queue or API and deletes the old one with its data. If a change here is deliberate (and the
deploy plan says how the data moves), regenerate the snapshot with `make stateful-snapshot`
and commit it with the change.
"""

import copy
import json

from contract.stateful import STATEFUL_TYPES, snapshot_differences, stateful_snapshot
from tests.infra.stateful_snapshot import SNAPSHOT

COMMITTED = json.loads(SNAPSHOT.read_text())
HINT = "stateful resources changed identity; if deliberate, run `make stateful-snapshot` and commit it"


def test_the_snapshot_covers_prod_and_staging():
    assert sorted(COMMITTED) == ["prod", "staging"]


def test_stateful_resources_match_the_committed_snapshot(stage_synth):
    actual = stateful_snapshot(stage_synth.template_dict)
    differences = snapshot_differences(COMMITTED[stage_synth.config.stage], actual)
    assert differences == [], HINT + ":\n" + "\n".join(differences)


def test_every_stateful_type_of_the_stack_is_in_the_snapshot(stage_synth):
    resources = stage_synth.template_dict["Resources"]
    stateful = {lid for lid, res in resources.items() if res["Type"] in STATEFUL_TYPES}
    committed = COMMITTED[stage_synth.config.stage]
    assert stateful == set(committed)
    counts = {t: sum(1 for r in committed.values() if r["Type"] == t) for t in STATEFUL_TYPES}
    assert counts == {
        "AWS::DynamoDB::Table": 3,
        "AWS::SQS::Queue": 3,
        "AWS::S3::Bucket": 3,
        "AWS::KMS::Key": 3,  # data key, ops-alerts key, patch-signing key
        "AWS::SecretsManager::Secret": 1,
        "AWS::ApiGatewayV2::Api": 1,
        "AWS::Logs::LogGroup": 8,  # seven functions and the WebSocket access logs
    }


def _jobs_table(template):
    return next(
        lid
        for lid, res in template["Resources"].items()
        if res["Type"] == "AWS::DynamoDB::Table" and res["Properties"]["TableName"].endswith("-jobs")
    )


def test_a_renamed_logical_id_is_reported(synth):
    template = copy.deepcopy(synth(stage="prod").template_dict)
    old_id = _jobs_table(template)
    template["Resources"]["JobsTableRenamed"] = template["Resources"].pop(old_id)
    lines = snapshot_differences(COMMITTED["prod"], stateful_snapshot(template))
    assert lines == [
        "JobsTableRenamed (AWS::DynamoDB::Table): new stateful resource, not in the snapshot",
        f"{old_id} (AWS::DynamoDB::Table): gone from the template (renamed or removed)",
    ]


def test_a_replacing_property_change_is_reported_and_others_are_not(synth):
    template = copy.deepcopy(synth(stage="prod").template_dict)
    lid = _jobs_table(template)
    props = template["Resources"][lid]["Properties"]
    props["BillingMode"] = "PROVISIONED"  # updates in place: not an identity change
    assert snapshot_differences(COMMITTED["prod"], stateful_snapshot(template)) == []
    props["KeySchema"] = [{"AttributeName": "id", "KeyType": "HASH"}]
    assert snapshot_differences(COMMITTED["prod"], stateful_snapshot(template)) == [
        f"{lid} (AWS::DynamoDB::Table): KeySchema: "
        "[{'AttributeName': 'jobId', 'KeyType': 'HASH'}] -> [{'AttributeName': 'id', 'KeyType': 'HASH'}]"
    ]


def test_dropping_retain_is_reported(synth):
    template = copy.deepcopy(synth(stage="staging").template_dict)
    lid = _jobs_table(template)
    template["Resources"][lid]["DeletionPolicy"] = "Delete"
    assert snapshot_differences(COMMITTED["staging"], stateful_snapshot(template)) == [
        f"{lid} (AWS::DynamoDB::Table): DeletionPolicy: 'Retain' -> 'Delete'"
    ]
