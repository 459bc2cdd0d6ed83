"""Both installations in moto, as CloudFormation stacks: the original and this app's prod stack.

The original's logical ids are CDK's for the construct names its README gives (JobsQueue,
JobsTable, AgentsTable, CreatorLimits, AgentPatchesBucket, AgentLogsBucket); only
`JobsQueue86ED6666` is known for sure (its README's queue URL). Its physical names are CDK's
generated ones. The new stack holds the stateful resources docs/contracts.md names.
"""

import json

import boto3

from tests.automation.conftest import REGION

OLD_KEY = "original-signing-key-0123456789abcdef"  # 36 bytes: ws-connect's minimum is 32


def _table(name, key, extra=None):
    props = {
        "KeySchema": [{"AttributeName": key, "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": key, "AttributeType": "S"}],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if name:
        props["TableName"] = name
    return {"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Retain", "Properties": props | (extra or {})}


def _queue(name):
    return {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": name}}


def _role():
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    return {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": trust}}


def _function(env):
    return {
        "Type": "AWS::Lambda::Function",
        "Properties": {
            "Runtime": "nodejs20.x",
            "Handler": "index.handler",
            "Code": {"ZipFile": "exports.handler = async () => ({})"},
            "Role": {"Fn::GetAtt": ["ServiceRole4288B192", "Arn"]},
            "Environment": {"Variables": env},
        },
    }


ORIGINAL = {
    "Resources": {
        "JobsDlqB1F0C5A4": {"Type": "AWS::SQS::Queue", "Properties": {"MessageRetentionPeriod": 1209600}},
        "JobsQueue86ED6666": {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "VisibilityTimeout": 360,
                "RedrivePolicy": {
                    "deadLetterTargetArn": {"Fn::GetAtt": ["JobsDlqB1F0C5A4", "Arn"]},
                    "maxReceiveCount": 5,
                },
            },
        },
        "JobsTable2E2B9CFD": _table(None, "jobId"),
        "AgentsTable1A2B3C4D": _table(None, "pk"),
        "CreatorLimits5D6E7F80": _table(None, "creatorId"),
        "AgentPatchesBucket3C0AD2B1": {"Type": "AWS::S3::Bucket", "Properties": {}},
        "AgentLogsBucketF1E2D3C4": {"Type": "AWS::S3::Bucket", "Properties": {}},
        "ServiceRole4288B192": _role(),
        "WsConnectFn0A1B2C3D": _function({"WS_JWT_SECRET": OLD_KEY}),
        "DispatcherSqs9F8E7D6C": _function({"STAGE": "prod"}),
    }
}

NEW = {
    "Resources": {
        "StorageJobsTable47C44CDA": _table("byoip-prod-jobs", "jobId"),
        "StorageAgentsTable818B80E0": _table("byoip-prod-agents", "pk"),
        "StorageCreatorLimits62B4D1AB": _table("byoip-prod-creator-limits", "creatorId"),
        "JobsJobsDlq42CD31F9": _queue("byoip-prod-jobs-dlq"),
        "JobsJobsQueue71AFC10C": _queue("byoip-prod-jobs"),
        "JobsJobsQuarantineD95A7292": _queue("byoip-prod-jobs-quarantine"),
        "StorageAgentPatchesBucketE531E1B7": {"Type": "AWS::S3::Bucket", "Properties": {}},
        "StorageAgentLogsBucketAA220A12": {"Type": "AWS::S3::Bucket", "Properties": {}},
    }
}


def deploy_both():
    """Create both stacks in the current moto account; (original's, new) physical ids by logical id."""
    cfn = boto3.client("cloudformation", region_name=REGION)
    ids = []
    for name, template in (("HuntazeByoIpStack", ORIGINAL), ("HuntazeByoIpStack-prod", NEW)):
        cfn.create_stack(StackName=name, TemplateBody=json.dumps(template), Capabilities=["CAPABILITY_IAM"])
        resources = cfn.list_stack_resources(StackName=name)["StackResourceSummaries"]
        ids.append({r["LogicalResourceId"]: r["PhysicalResourceId"] for r in resources})
    # moto's CloudFormation has no AWS::SecretsManager::Secret: the new stack's secret, made directly.
    secrets = boto3.client("secretsmanager", region_name=REGION)
    secrets.create_secret(Name="byoip/prod/ws-jwt", SecretString="generated-by-the-new-stack-" + "x" * 40)
    return ids[0], ids[1]


def attach_dispatcher(old):
    """The original's dispatcher consuming its queue, added once the jobs are in it.

    In the original it is part of the stack; here it comes after seeding because moto runs an
    enabled mapping's function (in Docker, absent here) on every send, which would push the
    seeded jobs to the DLQ before the window.
    """
    sqs = boto3.client("sqs", region_name=REGION)
    arn = sqs.get_queue_attributes(QueueUrl=old["JobsQueue86ED6666"], AttributeNames=["QueueArn"])
    boto3.client("lambda", region_name=REGION).create_event_source_mapping(
        FunctionName=old["DispatcherSqs9F8E7D6C"], EventSourceArn=arn["Attributes"]["QueueArn"], BatchSize=10
    )
