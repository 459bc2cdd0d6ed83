"""Keys that retire and roles that trust someone, read from the synthesized template.

The attacks of issue 21 these close: a principal allowed PutSecretValue installing a key it knows;
TokenIssuer and PatchRelease trusting the whole account (`:root`, no condition); a service principal
acting for another account's resource (confused deputy); a stage deployed without naming who is trusted.
"""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest

from contract.config import Config, ConfigError
from stacks.synth import LOCAL_OPERATOR, app_context, build

# Role trust policies whose service does not document the source keys for assuming a role: the
# caller must already hold iam:PassRole on the role, which is what guards them.
PASSROLE_GUARDED = {"lambda.amazonaws.com", "chatbot.amazonaws.com"}
KEY_WRITES = {"PutSecretValue", "UpdateSecretVersionStage", "DeleteSecret"}
SETTINGS = {"UpdateSecret", "RotateSecret", "CancelRotateSecret", "PutResourcePolicy", "DeleteResourcePolicy"}


def _statements(node: Any) -> list[dict]:
    found = []
    if isinstance(node, dict):
        if "Principal" in node and "Effect" in node:
            found.append(node)
        for value in node.values():
            found += _statements(value)
    elif isinstance(node, list):
        for value in node:
            found += _statements(value)
    return found


def _services(statement: dict) -> list[str]:
    principal = statement["Principal"]
    services = principal.get("Service", []) if isinstance(principal, dict) else []
    return [services] if isinstance(services, str) else services


def _policy(template: dict) -> list[dict]:
    (policy,) = [
        r["Properties"]["ResourcePolicy"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::SecretsManager::ResourcePolicy"
    ]
    return policy["Statement"]


def _logical(template: dict, prefix: str, kind: str = "AWS::IAM::Role") -> str:
    (found,) = [
        lid for lid, r in template["Resources"].items() if lid.startswith(prefix) and r["Type"] == kind
    ]
    return found


def test_attack_secret_write_by_other_principal_is_denied(synth):
    template = synth().template_dict
    rotation = {"Fn::GetAtt": [_logical(template, "SecretRotationRole"), "Arn"]}
    emergency = {"Fn::GetAtt": [_logical(template, "AutomationEmergencyKeyRotationRole"), "Arn"]}
    denies = {s["Sid"]: s for s in _policy(template) if s.get("Sid", "").startswith("Only")}
    writes = denies["OnlyRotationEmergencyAndBreakGlassWriteTheKey"]
    settings = denies["OnlyEmergencyBreakGlassAndDeployChangeSettings"]
    for statement, actions in ((writes, KEY_WRITES), (settings, SETTINGS)):
        assert statement["Effect"] == "Deny" and statement["Principal"] == {"AWS": "*"}
        assert {a.removeprefix("secretsmanager:") for a in statement["Action"]} == actions
    # everyone but these principals is denied: the rotation function, the emergency rotation, break glass
    allowed = writes["Condition"]["ArnNotEquals"]["aws:PrincipalArn"]
    assert allowed[:2] == [rotation, emergency]
    assert json.dumps(allowed[2]).endswith(':role/byoip-break-glass"]]}')
    # settings: no rotation function; the CDK deploy role keeps them (CloudFormation updates the schedule)
    kept = settings["Condition"]["ArnNotEquals"]["aws:PrincipalArn"]
    assert kept[0] == emergency and rotation not in kept
    assert "cfn-exec-role" in json.dumps(kept[2])


def test_attack_operator_roles_trust_the_account_root(synth):
    template = synth().template_dict
    for prefix in ("AgentKeysTokenIssuer", "PatchReleasePatchReleaseRole"):
        trust = template["Resources"][_logical(template, prefix)]["Properties"]["AssumeRolePolicyDocument"]
        (statement,) = trust["Statement"]
        assert statement["Principal"] == {"AWS": LOCAL_OPERATOR}, prefix
        assert statement["Condition"] == {"StringEquals": {"aws:PrincipalTag/byoip-operator": "true"}}


def test_attack_no_principal_in_the_template_is_an_unconditioned_account_root(synth):
    # Key policies keep the account root as KMS requires (administration through IAM policies), and
    # the Storage secret's DeleteSecret deny names it: neither is a trust. Every other root is a finding.
    for statement in _statements(synth().template_dict["Resources"]):
        principal = json.dumps(statement["Principal"])
        if ":root" in principal and statement["Effect"] == "Allow" and "Condition" not in statement:
            assert "kms:*" in json.dumps(statement["Action"]), statement


def test_attack_service_principal_without_source_conditions(synth):
    resources = synth().template_dict["Resources"]
    checked = []
    for lid, resource in resources.items():
        if resource["Type"] == "AWS::Lambda::Permission":
            props = resource["Properties"]
            if props["Principal"].endswith(".amazonaws.com"):
                assert "SourceArn" in props and props["SourceAccount"] == {"Ref": "AWS::AccountId"}, lid
                checked.append(props["Principal"])
            continue
        for statement in _statements(resource):
            for service in _services(statement):
                if resource["Type"] == "AWS::IAM::Role" and service in PASSROLE_GUARDED:
                    continue
                condition = statement.get("Condition", {})
                assert condition.get("StringEquals", {}).get("aws:SourceAccount") == {
                    "Ref": "AWS::AccountId"
                }, lid
                assert "aws:SourceArn" in condition.get("ArnLike", {}) or "aws:SourceArn" in condition.get(
                    "ArnEquals", {}
                ), lid
                checked.append(service)
    assert {"secretsmanager.amazonaws.com", "ssm.amazonaws.com", "events.amazonaws.com"} <= set(checked)
    assert {"cloudwatch.amazonaws.com", "apigateway.amazonaws.com", "logging.s3.amazonaws.com"} <= set(
        checked
    )


def test_the_rotation_permission_names_the_secret(synth):
    resources = synth().template_dict["Resources"]
    (permission,) = [
        r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::Lambda::Permission"
        and r["Properties"]["Principal"] == "secretsmanager.amazonaws.com"
    ]
    assert permission["SourceArn"] == {
        "Ref": _logical({"Resources": resources}, "StorageWsJwtSecret", "AWS::SecretsManager::Secret")
    }


def test_attack_stage_without_trusted_principals_fails_synth(tmp_path):
    app = cdk.App(outdir=str(tmp_path), context=app_context(bundling=False))
    with pytest.raises(ConfigError, match=r"^TRUSTED_PRINCIPALS is not set: name the roles or users"):
        build(app, Config(stage="untrusted"), nag=False)


@pytest.mark.parametrize("root", ["arn:aws:iam::123456789012:root", "123456789012"])
def test_a_trusted_principal_that_is_the_account_root_is_refused(root):
    with pytest.raises(
        ConfigError, match=r"^invalid TRUSTED_PRINCIPALS entry .*the account root would trust"
    ):
        Config(trusted_principals=(LOCAL_OPERATOR, root))


def test_trusted_principals_come_from_context_or_the_environment():
    ops = "arn:aws:iam::123456789012:role/ops"
    assert Config.from_sources({"trustedPrincipals": [ops, LOCAL_OPERATOR]}.get, {}).trusted_principals == (
        ops,
        LOCAL_OPERATOR,
    )
    from_env = Config.from_sources({}.get, {"TRUSTED_PRINCIPALS": f" {ops} ,{LOCAL_OPERATOR}"})
    assert from_env.trusted_principals == (ops, LOCAL_OPERATOR)
    assert Config.from_sources({}.get, {"BREAK_GLASS_ROLE": "glass"}).break_glass_role == "glass"
    with pytest.raises(ConfigError, match="^invalid BREAK_GLASS_ROLE"):
        Config(break_glass_role="not a role")
