"""Resolve CloudFormation intrinsics (`Ref`, `Fn::GetAtt`, `Fn::Join`, `Fn::Sub`, ...) in a template.

Physical names come from the template itself (`QueueName`, `FunctionName`, `AlarmName`, ...),
which is what CloudFormation deploys when a name is set; a resource without a name property
gets its logical id as name. Callers that know the real physical ids (the sandbox, which
creates the resources in moto) pass them as `refs` / `attrs` overrides.
"""

from __future__ import annotations

import re
from typing import Any

from monitoring.evaluator.model import EvaluatorError

ACCOUNT = "123456789012"
REGION = "us-east-1"

_NAME_PROPS = {
    "AWS::SQS::Queue": "QueueName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::CloudWatch::Alarm": "AlarmName",
    "AWS::CloudWatch::CompositeAlarm": "AlarmName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::Events::Rule": "Name",
    "AWS::SSM::Document": "Name",
    "AWS::IAM::Role": "RoleName",
    "AWS::S3::Bucket": "BucketName",
    "AWS::ApiGatewayV2::Api": "Name",
    "AWS::ApiGatewayV2::Stage": "StageName",
    "AWS::SecretsManager::Secret": "Name",
}
# Types whose `Ref` is an ARN or a URL rather than the plain name.
_REF_KINDS = {
    "AWS::SQS::Queue": "url",
    "AWS::SNS::Topic": "arn",
    "AWS::SecretsManager::Secret": "arn",
}
_ARN_FORMATS = {
    "AWS::SQS::Queue": "arn:aws:sqs:{region}:{account}:{name}",
    "AWS::SNS::Topic": "arn:aws:sns:{region}:{account}:{name}",
    "AWS::Lambda::Function": "arn:aws:lambda:{region}:{account}:function:{name}",
    "AWS::CloudWatch::Alarm": "arn:aws:cloudwatch:{region}:{account}:alarm:{name}",
    "AWS::CloudWatch::CompositeAlarm": "arn:aws:cloudwatch:{region}:{account}:alarm:{name}",
    "AWS::Logs::LogGroup": "arn:aws:logs:{region}:{account}:log-group:{name}:*",
    "AWS::DynamoDB::Table": "arn:aws:dynamodb:{region}:{account}:table/{name}",
    "AWS::Events::Rule": "arn:aws:events:{region}:{account}:rule/{name}",
    "AWS::SSM::Document": "arn:aws:ssm:{region}:{account}:document/{name}",
    "AWS::IAM::Role": "arn:aws:iam::{account}:role/{name}",
    "AWS::S3::Bucket": "arn:aws:s3:::{name}",
    "AWS::SecretsManager::Secret": "arn:aws:secretsmanager:{region}:{account}:secret:{name}",
}
_SUB_VAR = re.compile(r"\$\{([^}!][^}]*)\}")


class TemplateResolver:
    """Resolves intrinsic functions of one template for one deployment (account, region, stack)."""

    def __init__(
        self,
        template: dict[str, Any],
        *,
        account: str = ACCOUNT,
        region: str = REGION,
        stack_name: str = "HuntazeByoIpStack-prod",
        refs: dict[str, Any] | None = None,
        attrs: dict[tuple[str, str], Any] | None = None,
    ) -> None:
        self.resources: dict[str, Any] = template.get("Resources") or {}
        self.account, self.region = account, region
        self.refs = dict(refs or {})
        self.attrs = dict(attrs or {})
        self.pseudo = {
            "AWS::AccountId": account,
            "AWS::Region": region,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": stack_name,
            "AWS::NoValue": None,
        }
        self._resolving: set[str] = set()

    def resolve(self, value: Any) -> Any:
        """Return `value` with every supported intrinsic replaced by its deployed value."""
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            method = _HANDLERS.get(key)
            if method is not None:
                return getattr(self, method)(arg)  # by name, so subclasses can override one
            if key.startswith("Fn::"):
                raise EvaluatorError(f"unsupported intrinsic {key} (supported: Ref, {', '.join(_HANDLERS)})")
        return {k: self.resolve(v) for k, v in value.items()}

    def name_of(self, logical_id: str) -> str:
        """The physical name of a resource (its name property, else its logical id)."""
        res = self._resource(logical_id)
        prop = _NAME_PROPS.get(res.get("Type", ""))
        raw = (res.get("Properties") or {}).get(prop) if prop else None
        if raw is None:
            return logical_id
        if logical_id in self._resolving:
            raise EvaluatorError(f"circular reference while naming resource {logical_id}")
        self._resolving.add(logical_id)
        try:
            return str(self.resolve(raw))
        finally:
            self._resolving.discard(logical_id)

    def arn_of(self, logical_id: str) -> str:
        rtype = self._resource(logical_id).get("Type", "")
        fmt = _ARN_FORMATS.get(rtype)
        name = self.name_of(logical_id)
        if fmt is None:
            service = rtype.split("::")[1].lower() if rtype.count("::") == 2 else "unknown"
            fmt = "arn:aws:" + service + ":{region}:{account}:{name}"
        return fmt.format(region=self.region, account=self.account, name=name)

    def _resource(self, logical_id: str) -> dict[str, Any]:
        res = self.resources.get(logical_id)
        if not isinstance(res, dict):
            raise EvaluatorError(f"reference to unknown resource {logical_id!r} in the template")
        return res

    def _ref(self, target: Any) -> Any:
        if not isinstance(target, str):
            raise EvaluatorError(f"malformed Ref {target!r}: expected a logical id")
        if target in self.pseudo:
            return self.pseudo[target]
        if target in self.refs:
            return self.refs[target]
        rtype = self._resource(target).get("Type", "")
        kind = _REF_KINDS.get(rtype)
        if kind == "arn":
            return self.arn_of(target)
        if kind == "url":
            return f"https://sqs.{self.region}.amazonaws.com/{self.account}/{self.name_of(target)}"
        return self.name_of(target)

    def _get_att(self, arg: Any) -> Any:
        if isinstance(arg, str):
            arg = arg.split(".", 1)
        if not (isinstance(arg, list) and len(arg) == 2 and all(isinstance(a, str) for a in arg)):
            raise EvaluatorError(f"malformed Fn::GetAtt {arg!r}: expected [logicalId, attribute]")
        logical_id, attr = arg
        if (logical_id, attr) in self.attrs:
            return self.attrs[(logical_id, attr)]
        if attr in ("Arn", "TopicArn"):
            return self.arn_of(logical_id)
        if attr == "QueueUrl":
            return f"https://sqs.{self.region}.amazonaws.com/{self.account}/{self.name_of(logical_id)}"
        if attr.endswith("Name") or attr == "ApiId":
            return self.name_of(logical_id)
        raise EvaluatorError(f"unsupported attribute Fn::GetAtt {logical_id}.{attr}")

    def _join(self, arg: Any) -> str:
        if not (isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str)):
            raise EvaluatorError(f"malformed Fn::Join {arg!r}: expected [delimiter, [values]]")
        parts = self.resolve(arg[1])
        if not isinstance(parts, list):
            raise EvaluatorError(f"malformed Fn::Join {arg!r}: the second item must be a list")
        return arg[0].join(str(p) for p in parts)

    def _sub(self, arg: Any) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
        local = {k: self.resolve(v) for k, v in variables.items()}

        def replace(match: re.Match[str]) -> str:
            var = match.group(1)
            if var in local:
                return str(local[var])
            if "." in var:
                return str(self._get_att(var.split(".", 1)))
            return str(self._ref(var))

        return _SUB_VAR.sub(replace, text).replace("${!", "${")

    def _select(self, arg: Any) -> Any:
        index, items = self.resolve(arg[0]), self.resolve(arg[1])
        return items[int(index)]

    def _split(self, arg: Any) -> list[str]:
        return str(self.resolve(arg[1])).split(arg[0])


_HANDLERS = {
    "Ref": "_ref",
    "Fn::GetAtt": "_get_att",
    "Fn::Join": "_join",
    "Fn::Sub": "_sub",
    "Fn::Select": "_select",
    "Fn::Split": "_split",
}
