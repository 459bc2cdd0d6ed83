"""Nothing deletes the data by accident: table deletion protection, prod stack termination protection."""

import json

from tests.infra.cfn import resources


def test_every_table_has_deletion_protection(stage_synth):
    tables = resources(stage_synth.template_dict, "AWS::DynamoDB::Table")
    assert len(tables) == 3
    for lid, table in tables.items():
        assert table["Properties"]["DeletionProtectionEnabled"] is True, lid


def _manifest_protection(synth_result):
    """What the CDK CLI reads: the stack artifact's terminationProtection in the cloud assembly."""
    manifest = json.loads((synth_result.template_path.parent / "manifest.json").read_text())
    artifact = manifest["artifacts"][synth_result.config.stack_name]
    return artifact["properties"].get("terminationProtection", False)


def test_only_the_prod_stack_has_termination_protection(synth):
    prod, staging = synth(stage="prod"), synth(stage="staging")
    assert (prod.stack.termination_protection, _manifest_protection(prod)) == (True, True)
    assert (staging.stack.termination_protection, _manifest_protection(staging)) == (False, False)
