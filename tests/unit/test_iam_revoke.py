"""A grant taken away for a while (sandbox/iam/revoke.py): the game days' bad deploy of a policy."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from contract.callers import AUTOMATION, FUNCTION, Caller, acting_as
from sandbox.iam import revoke
from sandbox.iam.recorder import outside_the_stack
from sandbox.iam.revoke import revoked

CONNECT = Caller(FUNCTION, "byoip-prod-ws-connect")
MESSAGE = Caller(FUNCTION, "byoip-prod-ws-message")


TABLES = ("byoip-prod-agents", "byoip-prod-jobs")
WHY = "the revocation's own unit test: its tables are the test's, no stack's"


@pytest.fixture
def aws(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    arns = [f"arn:aws:dynamodb:us-east-1:123456789012:table/{t}" for t in TABLES]
    with mock_aws(), outside_the_stack(arns[0], WHY), outside_the_stack(arns[1], WHY):
        ddb = boto3.client("dynamodb")
        for name in TABLES:
            ddb.create_table(
                TableName=name,
                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )
        yield ddb


def _put(ddb, table: str, caller: Caller) -> None:
    with acting_as(caller):
        ddb.put_item(TableName=table, Item={"pk": {"S": "agent#a"}})


def test_the_revoked_action_is_refused_only_to_that_caller_on_that_resource_while_it_lasts(aws):
    writes = ("dynamodb:PutItem", "dynamodb:UpdateItem")
    with revoked("-ws-connect", writes, "table/byoip-prod-agents"):
        with pytest.raises(ClientError) as refused:
            _put(aws, "byoip-prod-agents", CONNECT)
        error = refused.value.response["Error"]
        assert error["Code"] == "AccessDeniedException"
        assert "not authorized to perform: dynamodb:PutItem on resource:" in error["Message"]
        assert "table/byoip-prod-agents" in error["Message"]
        _put(aws, "byoip-prod-jobs", CONNECT)  # another table
        _put(aws, "byoip-prod-agents", MESSAGE)  # another role
        aws.put_item(TableName="byoip-prod-agents", Item={"pk": {"S": "x"}})  # no role: the harness
        with acting_as(CONNECT):  # an action not revoked
            aws.get_item(TableName="byoip-prod-agents", Key={"pk": {"S": "agent#a"}})
    _put(aws, "byoip-prod-agents", CONNECT)  # restored
    assert ("byoip-prod-ws-connect", "dynamodb:PutItem") in [(c, a) for c, a, _ in revoke.denied]
    items = aws.scan(TableName="byoip-prod-agents")["Items"]
    assert {i["pk"]["S"] for i in items} == {"agent#a", "x"}  # the refused write wrote nothing


def test_a_pattern_revokes_every_matching_action_and_a_transaction_is_judged_item_by_item(aws):
    redrive = Caller(AUTOMATION, "BYOIP-prod-GuardedRedrive")
    with revoked("-GuardedRedrive", ("dynamodb:*",), "table/byoip-prod-jobs"), acting_as(redrive):
        with pytest.raises(ClientError):
            aws.transact_write_items(
                TransactItems=[
                    {"Put": {"TableName": "byoip-prod-agents", "Item": {"pk": {"S": "1"}}}},
                    {"Put": {"TableName": "byoip-prod-jobs", "Item": {"pk": {"S": "2"}}}},
                ]
            )
        aws.put_item(TableName="byoip-prod-agents", Item={"pk": {"S": "3"}})
    assert aws.scan(TableName="byoip-prod-jobs")["Count"] == 0
