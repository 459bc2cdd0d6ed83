"""Small readers over a synthesized template that find resources by what they are, not by logical id."""

from __future__ import annotations

from typing import Any

Template = dict[str, Any]


def resources(template: Template, cfn_type: str) -> dict[str, dict[str, Any]]:
    """Logical id -> resource, for every resource of `cfn_type`."""
    return {lid: res for lid, res in template["Resources"].items() if res["Type"] == cfn_type}


def one(template: Template, cfn_type: str, **props: Any) -> tuple[str, dict[str, Any]]:
    """The single resource of `cfn_type` whose properties include `props`."""
    found = [
        (lid, res)
        for lid, res in resources(template, cfn_type).items()
        if all(res.get("Properties", {}).get(k) == v for k, v in props.items())
    ]
    assert len(found) == 1, f"expected one {cfn_type} with {props}, found {len(found)}"
    return found[0]


def function(template: Template, name: str) -> tuple[str, dict[str, Any]]:
    """The Lambda function with FunctionName `name`."""
    return one(template, "AWS::Lambda::Function", FunctionName=name)


def path_of(template: Template, logical_id: str) -> str:
    """The construct path of a resource (path metadata), e.g. `Stack/Storage/AgentLogsBucket/Resource`."""
    return template["Resources"][logical_id]["Metadata"]["aws:cdk:path"]


def label(template: Template, value: Any) -> str:
    """A readable name for a Ref/GetAtt/Join to a resource: its physical name or construct path."""
    if isinstance(value, str):
        return value
    if "Ref" in value:
        target = value["Ref"]
        if target.startswith("AWS::"):
            return f"<{target}>"
        return _name(template, target)
    if "Fn::GetAtt" in value:
        target, _attr = value["Fn::GetAtt"]
        return _name(template, target)
    if "Fn::Join" in value:
        sep, parts = value["Fn::Join"]
        return sep.join(label(template, part) for part in parts)
    raise AssertionError(f"unexpected intrinsic {value}")


_NAME_PROPS = ("TableName", "QueueName", "FunctionName", "Name", "LogGroupName", "RuleName")


def _name(template: Template, logical_id: str) -> str:
    props = template["Resources"][logical_id].get("Properties", {})
    for prop in _NAME_PROPS:
        if isinstance(props.get(prop), str):
            return props[prop]
    return path_of(template, logical_id).rsplit("/", 2)[-2]


def role_statements(template: Template, function_name: str) -> set[tuple[str, str]]:
    """Every (action, resource) the function's role is allowed, resources given readable names."""
    _lid, fn = function(template, function_name)
    role_id = fn["Properties"]["Role"]["Fn::GetAtt"][0]
    role = template["Resources"][role_id]["Properties"]
    assert "ManagedPolicyArns" not in role, "functions use no AWS managed policies"
    grants: set[tuple[str, str]] = set()
    policies = [
        res["Properties"]["PolicyDocument"]
        for res in resources(template, "AWS::IAM::Policy").values()
        if {"Ref": role_id} in res["Properties"]["Roles"]
    ]
    policies += [p["PolicyDocument"] for p in role.get("Policies", [])]
    for doc in policies:
        for stmt in doc["Statement"]:
            assert stmt["Effect"] == "Allow" and "Condition" not in stmt
            actions = stmt["Action"] if isinstance(stmt["Action"], list) else [stmt["Action"]]
            res_list = stmt["Resource"] if isinstance(stmt["Resource"], list) else [stmt["Resource"]]
            grants |= {(a, label(template, r)) for a in actions for r in res_list}
    return grants
