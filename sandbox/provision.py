"""Create in moto the resources the synthesized template declares.

Walks queues (attributes + redrive policy), tables (keys, GSIs, TTL), buckets, the JWT
secret (a generated value of 48 bytes), SNS topics, KMS keys (spec and usage) with their
aliases and SSM parameters, and records their physical ids in
the Resolver so every later `Ref` / `Fn::GetAtt` resolves to the sandbox's resources.
Production durations on queues (visibility timeout) are scaled by the clock.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sandbox.clock import SimClock
from sandbox.template import ACCOUNT, REGION, Resolver, TemplateError

# Attributes whose value is a duration in seconds that production semantics depend on.
_SCALED_QUEUE_ATTRS = ("VisibilityTimeout",)
_KEPT_QUEUE_ATTRS = ("DelaySeconds", "MaximumMessageSize", "MessageRetentionPeriod", "FifoQueue")


@dataclass
class Provisioned:
    """Physical names of what was created, by logical id."""

    queues: dict[str, str] = field(default_factory=dict)  # logical id -> queue URL
    queue_names: dict[str, str] = field(default_factory=dict)  # logical id -> name
    tables: dict[str, str] = field(default_factory=dict)
    buckets: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)  # logical id -> ARN
    topics: dict[str, str] = field(default_factory=dict)  # logical id -> ARN
    keys: dict[str, str] = field(default_factory=dict)  # logical id -> KMS key ARN
    prod_visibility: dict[str, int] = field(default_factory=dict)  # queue name -> prod seconds

    def queue_url(self, name: str) -> str:
        """URL of a queue by its physical name."""
        for logical_id, queue_name in self.queue_names.items():
            if queue_name == name:
                return self.queues[logical_id]
        raise TemplateError(f"the template declares no queue named {name!r}")


def provision(resolver: Resolver, client: Callable[[str], Any], clock: SimClock) -> Provisioned:
    """Create every emulated resource of the template in moto."""
    out = Provisioned()
    _queues(resolver, client("sqs"), clock, out)
    _tables(resolver, client("dynamodb"), out)
    _buckets(resolver, client("s3"), out)
    _secrets(resolver, client("secretsmanager"), out)
    _topics(resolver, client("sns"), out)
    _keys(resolver, client("kms"), out)
    _parameters(resolver, client("ssm"))
    return out


def _queue_arn(name: str) -> str:
    return f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"


def _queues(resolver: Resolver, sqs: Any, clock: SimClock, out: Provisioned) -> None:
    declared = list(resolver.of_type("AWS::SQS::Queue"))
    for logical_id, props in declared:
        name = resolver.resolve(props.get("QueueName")) or f"local-{logical_id}"
        attributes = {}
        for key in _KEPT_QUEUE_ATTRS:
            if key in props:
                attributes[key] = (
                    str(resolver.resolve(props[key])).lower()
                    if key == "FifoQueue"
                    else str(resolver.resolve(props[key]))
                )
        visibility = int(resolver.resolve(props.get("VisibilityTimeout", 30)))
        attributes["VisibilityTimeout"] = str(clock.scaled_int(visibility))
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        out.queues[logical_id] = url
        out.queue_names[logical_id] = name
        out.prod_visibility[name] = visibility
        resolver.set(logical_id, url, Arn=_queue_arn(name), QueueName=name, QueueUrl=url)
    # Redrive policies name other queues, so they are set once every queue exists.
    for logical_id, props in declared:
        extra = {}
        for key in ("RedrivePolicy", "RedriveAllowPolicy"):
            if key in props:
                extra[key] = json.dumps(resolver.resolve(props[key]))
        if extra:
            sqs.set_queue_attributes(QueueUrl=out.queues[logical_id], Attributes=extra)


def _tables(resolver: Resolver, dynamodb: Any, out: Provisioned) -> None:
    for logical_id, props in resolver.of_type("AWS::DynamoDB::Table"):
        name = resolver.resolve(props.get("TableName")) or f"local-{logical_id}"
        kwargs: dict[str, Any] = {
            "TableName": name,
            "KeySchema": props["KeySchema"],
            "AttributeDefinitions": props["AttributeDefinitions"],
            "BillingMode": "PAY_PER_REQUEST",
        }
        indexes = [
            {k: v for k, v in gsi.items() if k in ("IndexName", "KeySchema", "Projection")}
            for gsi in props.get("GlobalSecondaryIndexes", [])
        ]
        if indexes:
            kwargs["GlobalSecondaryIndexes"] = indexes
        dynamodb.create_table(**kwargs)
        ttl = props.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            dynamodb.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]},
            )
        out.tables[logical_id] = name
        resolver.set(logical_id, name, Arn=f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}")


def _buckets(resolver: Resolver, s3: Any, out: Provisioned) -> None:
    for logical_id, props in resolver.of_type("AWS::S3::Bucket"):
        name = resolver.resolve(props.get("BucketName")) or f"local-{logical_id.lower()}"[:63]
        s3.create_bucket(Bucket=name)
        if props.get("VersioningConfiguration", {}).get("Status") == "Enabled":
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        out.buckets[logical_id] = name
        resolver.set(
            logical_id,
            name,
            Arn=f"arn:aws:s3:::{name}",
            DomainName=f"{name}.s3.amazonaws.com",
            RegionalDomainName=f"{name}.s3.{REGION}.amazonaws.com",
        )


def _secrets(resolver: Resolver, sm: Any, out: Provisioned) -> None:
    for logical_id, props in resolver.of_type("AWS::SecretsManager::Secret"):
        name = resolver.resolve(props.get("Name")) or f"local-{logical_id}"
        value = props.get("SecretString")
        if value is None:
            # Like GenerateSecretString: 48 random bytes, URL-safe, well above HS256's 32-byte minimum.
            value = secrets.token_urlsafe(48)
        arn = sm.create_secret(Name=name, SecretString=resolver.resolve(value))["ARN"]
        out.secrets[logical_id] = arn
        resolver.set(logical_id, arn, Id=arn)


def _topics(resolver: Resolver, sns: Any, out: Provisioned) -> None:
    for logical_id, props in resolver.of_type("AWS::SNS::Topic"):
        name = resolver.resolve(props.get("TopicName")) or f"local-{logical_id}"
        arn = sns.create_topic(Name=name)["TopicArn"]
        out.topics[logical_id] = arn
        resolver.set(logical_id, arn, TopicArn=arn, TopicName=name)


def _keys(resolver: Resolver, kms: Any, out: Provisioned) -> None:
    """KMS keys with their key spec and usage (the patch-signing key is ECC_NIST_P256), then aliases."""
    for logical_id, props in resolver.of_type("AWS::KMS::Key"):
        spec = {k: props[k] for k in ("KeySpec", "KeyUsage") if k in props}
        meta = kms.create_key(Description=str(props.get("Description", logical_id)), **spec)["KeyMetadata"]
        out.keys[logical_id] = meta["Arn"]
        resolver.set(logical_id, meta["KeyId"], Arn=meta["Arn"], KeyId=meta["KeyId"])
    for _logical_id, props in resolver.of_type("AWS::KMS::Alias"):
        kms.create_alias(
            AliasName=resolver.resolve(props["AliasName"]), TargetKeyId=resolver.resolve(props["TargetKeyId"])
        )


def _parameters(resolver: Resolver, ssm: Any) -> None:
    for _logical_id, props in resolver.of_type("AWS::SSM::Parameter"):
        value = resolver.resolve(props["Value"])
        ssm.put_parameter(Name=resolver.resolve(props["Name"]), Value=value, Type=props.get("Type", "String"))
