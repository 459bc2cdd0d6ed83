"""The recorder's mapping of one API call to what IAM checks: actions, ARNs and condition keys."""

from __future__ import annotations

import pytest

from sandbox.iam.actions import authorized, request_context

KEY = "arn:aws:kms:eu-west-1:123456789012:key/k-1"


def test_a_post_policy_pins_the_encryption_it_names_as_condition_keys():
    post = {
        "fields": {"x-amz-server-side-encryption": "aws:kms", "Content-Type": "text/plain"},
        "conditions": [
            {"x-amz-server-side-encryption": "aws:kms"},
            ["eq", "$x-amz-server-side-encryption-aws-kms-key-id", KEY],
            ["content-length-range", 1, 10],
        ],
    }
    assert request_context("s3", "PutObject", {"Bucket": "b", "Key": "k"}, post) == {
        "s3:x-amz-server-side-encryption": "aws:kms",
        "s3:x-amz-server-side-encryption-aws-kms-key-id": KEY,
    }


def test_a_post_field_its_policy_does_not_pin_is_not_a_condition_key():
    post = {"fields": {"x-amz-server-side-encryption-aws-kms-key-id": KEY}, "conditions": []}
    assert request_context("s3", "PutObject", {"Bucket": "b", "Key": "k"}, post) == {}


def test_a_put_sends_its_encryption_parameters_as_headers():
    params = {"Bucket": "b", "Key": "k", "ServerSideEncryption": "aws:kms", "SSEKMSKeyId": KEY}
    assert request_context("s3", "PutObject", params) == {
        "s3:x-amz-server-side-encryption": "aws:kms",
        "s3:x-amz-server-side-encryption-aws-kms-key-id": KEY,
    }
    assert request_context("s3", "GetObject", params) == {}
    assert request_context("sqs", "SendMessage", {"QueueUrl": "q"}) == {}


def test_operations_map_to_the_actions_and_arns_iam_checks():
    region, ids = "eu-west-1", {}
    table = "arn:aws:dynamodb:eu-west-1:123456789012:table/"
    assert authorized(
        "dynamodb", "BatchGetItem", {"RequestItems": {"a": {}, "b": {}}}, region=region, api_ids=ids
    ) == [
        ("dynamodb:BatchGetItem", table + "a"),
        ("dynamodb:BatchGetItem", table + "b"),
    ]
    transact = {"TransactItems": [{"ConditionCheck": {"TableName": "a"}}, {"Put": {"TableName": "b"}}]}
    assert authorized("dynamodb", "TransactWriteItems", transact, region=region, api_ids=ids) == [
        ("dynamodb:ConditionCheckItem", table + "a"),
        ("dynamodb:PutItem", table + "b"),
    ]
    url = "https://sqs.eu-west-1.amazonaws.com/123456789012/jobs"
    assert authorized("sqs", "SendMessageBatch", {"QueueUrl": url}, region=region, api_ids=ids) == [
        ("sqs:SendMessage", "arn:aws:sqs:eu-west-1:123456789012:jobs")
    ]
    secret = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:byoip/s/ws-jwt-AbCdEf"
    assert authorized(
        "secretsmanager", "GetSecretValue", {"SecretId": secret}, region=region, api_ids=ids
    ) == [("secretsmanager:GetSecretValue", secret.removesuffix("-AbCdEf"))]


def test_a_request_aws_refuses_before_authorizing_maps_to_no_action():
    with pytest.raises(ValueError, match="empty TableName"):
        authorized("dynamodb", "GetItem", {"TableName": "", "Key": {}}, region="eu-west-1", api_ids={})
