"""The policies a synthesized template deploys, resolved to concrete ARNs for one deployment.

Identity policies are gathered per role (inline `Policies`, AWS::IAM::Policy and
AWS::IAM::ManagedPolicy attached to it); callers map to roles the way AWS does (a function's
`Role`, an Automation document's `assumeRole`). Resource policies are keyed by the resource
they guard (bucket name, key, secret or queue ARN). Intrinsics resolve with the fixed fake
account and region; ids only known at runtime (the API id, key ids, secret ARNs, bucket
names) come from a binding: the functions' environment the calls ran with, or the sandbox's
physical ids (sandbox/iam/recorder.py `bind`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from contract.names import Names
from monitoring.evaluator.intrinsics import TemplateResolver
from sandbox.iam.actions import secret_arn


class DeployedResolver(TemplateResolver):
    """ARNs of runtime-named resources follow their bound `Ref` (bucket name, secret ARN, key id)."""

    def arn_of(self, logical_id: str) -> str:
        rtype = self._resource(logical_id).get("Type", "")
        bound = self.refs.get(logical_id)
        if rtype == "AWS::S3::Bucket" and bound:
            return f"arn:aws:s3:::{bound}"
        if rtype == "AWS::SecretsManager::Secret":
            return secret_arn(bound or self.name_of(logical_id), self.region)
        if rtype == "AWS::KMS::Key":
            return f"arn:aws:kms:{self.region}:{self.account}:key/{bound or logical_id}"
        return super().arn_of(logical_id)

    def _ref(self, target: Any) -> Any:
        if target in self.resources and self.resources[target].get("Type") == "AWS::SecretsManager::Secret":
            return self.arn_of(target)
        resource = self.resources.get(target) if isinstance(target, str) else None
        name = (resource or {}).get("Properties", {}).get("Name")
        if target not in self.refs and resource and resource["Type"] == "AWS::SSM::Parameter" and name:
            return self.resolve(name)  # a parameter's Ref is its name
        return super()._ref(target)


def _by_type(template: dict[str, Any], cfn_type: str) -> list[tuple[str, dict[str, Any]]]:
    return [
        (lid, res.get("Properties") or {})
        for lid, res in template.get("Resources", {}).items()
        if res.get("Type") == cfn_type
    ]


def _refs_in(value: Any) -> list[str]:
    if isinstance(value, dict):
        if set(value) == {"Ref"}:
            return [value["Ref"]]
        return [r for v in value.values() for r in _refs_in(v)]
    if isinstance(value, list):
        return [r for v in value for r in _refs_in(v)]
    return []


def bindings_from_environment(template: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
    """refs/attrs that make the template's function environments equal `env` (the handler tests')."""
    refs: dict[str, Any] = {}
    attrs: dict[tuple[str, str], Any] = {}
    types = {lid: res.get("Type") for lid, res in template.get("Resources", {}).items()}
    for _, props in _by_type(template, "AWS::Lambda::Function"):
        for var, expr in (props.get("Environment") or {}).get("Variables", {}).items():
            value = env.get(var)
            if value is None or not isinstance(expr, dict):
                continue
            if "Ref" in expr:
                refs[expr["Ref"]] = value
            elif "Fn::GetAtt" in expr and expr["Fn::GetAtt"][1] == "Arn":
                lid = expr["Fn::GetAtt"][0]
                attrs[(lid, "Arn")] = value
                if types.get(lid) == "AWS::KMS::Key":
                    refs[lid] = value.rsplit("/", 1)[-1]
            else:  # WS_ENDPOINT: https://<api id>.execute-api.<region>.amazonaws.com/<stage>
                for lid in _refs_in(expr):
                    if types.get(lid) == "AWS::ApiGatewayV2::Api":
                        refs[lid] = (urlparse(value).hostname or "").split(".")[0]
    return {"refs": refs, "attrs": attrs}


@dataclass
class Deployed:
    """One deployment's policies: identity policies per role, resource policies per resource."""

    role_policies: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # role ARN -> documents
    caller_roles: dict[str, str] = field(default_factory=dict)  # "function:NAME" -> role ARN
    resource_policies: dict[str, dict[str, Any]] = field(default_factory=dict)  # owner -> document
    bucket_keys: dict[str, str] = field(default_factory=dict)  # bucket name -> SSE-KMS key ARN
    aliases: dict[str, str] = field(default_factory=dict)  # alias ARN -> key ARN
    account: str = ""
    region: str = ""

    def owner(self, resource: str) -> str:
        """The resource whose policy governs `resource` (an object's bucket, a key, a secret, a queue)."""
        if resource.startswith("arn:aws:s3:::"):
            return resource.removeprefix("arn:aws:s3:::").split("/", 1)[0]
        return resource


def _assume_role(content: dict[str, Any]) -> Any:
    """A document's role: its `assumeRole`, or the role its `{{ Parameter }}` is pinned to (the one
    allowed value; else the default, which the template's triggers pass)."""
    role = content.get("assumeRole")
    named = re.fullmatch(r"\{\{\s*(\w+)\s*\}\}", role) if isinstance(role, str) else None
    if not named:
        return role
    parameter = (content.get("parameters") or {}).get(named.group(1)) or {}
    allowed = parameter.get("allowedValues") or []
    return allowed[0] if len(allowed) == 1 else parameter.get("default")


def deployed(template: dict[str, Any], *, stage: str, region: str, binding: dict[str, Any]) -> Deployed:
    """Every identity and resource policy of `template`, resolved for one deployment."""
    attrs = {tuple(k.split("|")) if isinstance(k, str) else k: v for k, v in binding.get("attrs", {}).items()}
    resolver = DeployedResolver(
        template,
        account="123456789012",
        region=region,
        stack_name=Names(stage).stack,
        refs=binding.get("refs", {}),
        attrs=attrs,  # type: ignore[arg-type]
    )
    out = Deployed(account=resolver.account, region=region)
    role_arn = {
        lid: resolver.resolve({"Fn::GetAtt": [lid, "Arn"]}) for lid, _ in _by_type(template, "AWS::IAM::Role")
    }
    for lid, props in _by_type(template, "AWS::IAM::Role"):
        out.role_policies[role_arn[lid]] = [
            resolver.resolve(p["PolicyDocument"]) for p in props.get("Policies", [])
        ]
    for cfn_type in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        for _, props in _by_type(template, cfn_type):
            for ref in props.get("Roles", []):
                out.role_policies[role_arn[ref["Ref"]]].append(resolver.resolve(props["PolicyDocument"]))
    for _, props in _by_type(template, "AWS::Lambda::Function"):
        if "FunctionName" in props and "Role" in props:
            out.caller_roles[f"function:{resolver.resolve(props['FunctionName'])}"] = resolver.resolve(
                props["Role"]
            )
    for _, props in _by_type(template, "AWS::SSM::Document"):
        role = _assume_role(props.get("Content") or {})
        if role:
            out.caller_roles[f"automation:{resolver.resolve(props['Name'])}"] = resolver.resolve(role)
    for _, props in _by_type(template, "AWS::S3::BucketPolicy"):
        out.resource_policies[resolver.resolve(props["Bucket"])] = resolver.resolve(props["PolicyDocument"])
    for lid, props in _by_type(template, "AWS::KMS::Key"):
        out.resource_policies[resolver.arn_of(lid)] = resolver.resolve(props["KeyPolicy"])
    for _, props in _by_type(template, "AWS::SecretsManager::ResourcePolicy"):
        secret = secret_arn(resolver.resolve(props["SecretId"]), region)
        out.resource_policies[secret] = resolver.resolve(props["ResourcePolicy"])
    for _, props in _by_type(template, "AWS::SQS::QueuePolicy"):
        for queue in props.get("Queues", []):
            name = resolver.resolve(queue).rstrip("/").rsplit("/", 1)[-1]
            out.resource_policies[f"arn:aws:sqs:{region}:{resolver.account}:{name}"] = resolver.resolve(
                props["PolicyDocument"]
            )
    for lid, props in _by_type(template, "AWS::S3::Bucket"):
        for rule in (props.get("BucketEncryption") or {}).get("ServerSideEncryptionConfiguration", []):
            default = rule.get("ServerSideEncryptionByDefault") or {}
            if default.get("SSEAlgorithm") == "aws:kms" and default.get("KMSMasterKeyID"):
                out.bucket_keys[resolver.resolve({"Ref": lid})] = resolver.resolve(default["KMSMasterKeyID"])
    for _, props in _by_type(template, "AWS::KMS::Alias"):
        alias = f"arn:aws:kms:{region}:{resolver.account}:{resolver.resolve(props['AliasName'])}"
        target = props["TargetKeyId"]
        lid = target.get("Ref") or target.get("Fn::GetAtt", [None])[0]
        out.aliases[alias] = resolver.arn_of(lid)
    return out
