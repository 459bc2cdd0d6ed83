"""The sandbox's moto patches keep moto's answers (sandbox/moto_patches.py, moto_process.py)."""

from __future__ import annotations

import threading
import time

import pytest
from moto import mock_aws
from moto.core import utils as moto_utils
from moto.dynamodb.parsing import validators as ddb_validators
from moto.dynamodb.parsing.ast_nodes import DepthFirstTraverser
from moto.dynamodb.parsing.expressions import UpdateExpressionParser
from moto.sqs.models import SQSBackend, sqs_backends

from sandbox import moto_patches, moto_process
from sandbox.moto_server import MotoServer, queue_messages
from sandbox.template import ACCOUNT, REGION

EXPRESSION = "SET #s = :s, attempt = attempt + :one REMOVE leaseState"


@pytest.mark.parametrize(("age_s", "valid"), [(59, True), (61, False)])
def test_retention_check_reads_the_period_without_every_attribute(age_s, valid):
    with mock_aws():
        import boto3

        sqs = boto3.client("sqs", region_name=REGION)
        sqs.create_queue(QueueName="q", Attributes={"MessageRetentionPeriod": "60"})
        sqs.send_message(QueueUrl=sqs.get_queue_url(QueueName="q")["QueueUrl"], MessageBody="x")
        backend = sqs_backends[ACCOUNT][REGION]
        (message,) = backend.queues["q"]._messages
        message.sent_timestamp = int((time.time() - age_s) * 1000)
        original = SQSBackend.is_message_valid_based_on_retention_period(backend, "q", message)

        def every_attribute(*args, **kwargs):
            raise AssertionError("the patch must not compute every queue attribute")

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(backend, "get_queue_attributes", every_attribute)
            assert moto_patches.retention_ok(backend, "q", message) is valid
        assert original is valid


def test_the_sqs_clock_is_moto_clock_without_datetimes():
    assert abs(moto_patches.unix_time() - moto_utils.unix_time()) < 0.05
    assert abs(moto_patches.unix_time_millis() - moto_utils.unix_time_millis()) < 50
    then = moto_utils.utcfromtimestamp(1_700_000_000)
    assert moto_patches.unix_time(then) == 1_700_000_000.0
    assert moto_patches.unix_time_millis(then) == 1_700_000_000_000.0


def test_update_expressions_are_parsed_once_and_copied_whole():
    first = moto_patches._parse_update(EXPRESSION)
    assert moto_patches._parse_update(EXPRESSION) is first
    assert moto_patches._parse_update(EXPRESSION + " ") is not first
    copy = moto_patches.tree_copy(first)
    assert copy is not first
    assert [type(n) for n in copy.find_clauses(list(_types(first)))] == [
        type(n) for n in first.find_clauses(list(_types(first)))
    ]
    assert UpdateExpressionParser.make is not None


def _types(node):
    for child in node.children or []:
        yield type(child)
        if hasattr(child, "children"):
            yield from _types(child)


def _table(ddb) -> None:
    """Table "t", keyed by the string "id"."""
    ddb.create_table(
        TableName="t",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


@pytest.fixture(scope="module")
def server():
    moto = MotoServer().start()
    yield moto
    moto.stop()


def test_patched_dynamodb_applies_the_same_expression_with_new_values(server):
    ddb = server.client_factory()("dynamodb")
    _table(ddb)
    ddb.put_item(TableName="t", Item={"id": {"S": "a"}, "attempt": {"N": "1"}, "leaseState": {"S": "x"}})
    names = {"#s": "status"}
    for status in ("queued", "assigned"):
        ddb.update_item(
            TableName="t",
            Key={"id": {"S": "a"}},
            UpdateExpression=EXPRESSION,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues={":s": {"S": status}, ":one": {"N": "1"}},
        )
    assert ddb.get_item(TableName="t", Key={"id": {"S": "a"}})["Item"] == {
        "id": {"S": "a"},
        "attempt": {"N": "3"},
        "status": {"S": "assigned"},
    }
    # A transaction whose condition fails changes nothing (the snapshot patch rolls back).
    with pytest.raises(ddb.exceptions.TransactionCanceledException):
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": "t", "Item": {"id": {"S": "b"}}}},
                {
                    "Update": {
                        "TableName": "t",
                        "Key": {"id": {"S": "a"}},
                        "UpdateExpression": EXPRESSION,
                        "ConditionExpression": "#s = :s",
                        "ExpressionAttributeNames": names,
                        "ExpressionAttributeValues": {":s": {"S": "queued"}, ":one": {"N": "1"}},
                    }
                },
            ]
        )
    assert "Item" not in ddb.get_item(TableName="t", Key={"id": {"S": "b"}})
    assert ddb.get_item(TableName="t", Key={"id": {"S": "a"}})["Item"]["attempt"] == {"N": "3"}


def test_dynamodb_has_its_own_server_and_queues_are_listed_without_receiving(server):
    assert server.dynamodb_endpoint != server.endpoint
    make = server.client_factory()
    assert make("dynamodb").meta.endpoint_url == server.dynamodb_endpoint
    assert make("sqs").meta.endpoint_url == server.endpoint
    sqs = make("sqs")
    url = sqs.create_queue(QueueName="listed")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="one")
    sqs.send_message(QueueUrl=url, MessageBody="two", DelaySeconds=60)
    listed = queue_messages("listed", server.endpoint)
    assert [(m["body"], m["visible"], m["delayed"]) for m in listed] == [
        ("one", True, False),
        ("two", True, True),
    ]
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in received] == ["one"]
    with pytest.raises(Exception, match="404"):
        queue_messages("no-such-queue", server.endpoint)


@pytest.mark.parametrize("patched", [True, False])
def test_a_message_batch_is_listed_whole_or_not_at_all(patched):
    """A queue listing (the metric sampler's) that arrives mid-batch waits for the batch to end."""
    with mock_aws():
        import boto3

        boto3.client("sqs", region_name=REGION).create_queue(QueueName="q")
        backend = sqs_backends[ACCOUNT][REGION]
        seen: list[int] = []
        listing = threading.Thread(target=lambda: seen.append(len(moto_process.queue_messages("q"))))
        send_one = backend.send_message

        def send_then_list(*args, **kwargs):
            message = send_one(*args, **kwargs)
            if not seen and not listing.is_alive():
                listing.start()  # the sampler arrives after the batch's first message
                listing.join(0.3)
            return message

        entries = {
            str(i): {"Id": str(i), "MessageBody": f"m{i}", "MessageAttributes": {}, "DelaySeconds": None}
            for i in range(3)
        }
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(backend, "send_message", send_then_list)
            batch = moto_patches.send_message_batch if patched else SQSBackend.send_message_batch
            batch(backend, "q", entries)
        listing.join(5)
        assert seen == ([3] if patched else [1])


# (key, update expression, names, values): applied in order, twice over, so the patched
# validators see every shape a second time. Errors are part of the answer.
UPDATES = [
    (
        "a",
        "SET #s = :s, attempt = :n REMOVE leaseState",
        {"#s": "status"},
        {":s": {"S": "q"}, ":n": {"N": "1"}},
    ),
    (
        "a",
        "SET attempt = attempt + :n, tags = list_append(if_not_exists(tags, :e), :t)",
        {},
        {":n": {"N": "2"}, ":e": {"L": []}, ":t": {"L": [{"S": "x"}]}},
    ),
    ("b", "ADD seen :set", {}, {":set": {"SS": ["a", "b"]}}),
    ("b", "DELETE seen :set", {}, {":set": {"SS": ["a"]}}),
    ("a", "SET #a = :v, #b = :v", {"#a": "x", "#b": "y"}, {":v": {"S": "1"}}),
    # the same text, the names now pointing at one attribute: overlapping, however often the
    # text validated before with other names
    ("a", "SET #a = :v, #b = :v", {"#a": "x", "#b": "x"}, {":v": {"S": "1"}}),
    ("a", "SET x = :v, x = :v", {}, {":v": {"S": "1"}}),
    ("a", "SET id = :v", {}, {":v": {"S": "other"}}),  # the key
    ("a", "SET #k = :v", {"#k": "id"}, {":v": {"S": "other"}}),
    ("a", "SET a = :v SET b = :v", {}, {":v": {"S": "1"}}),  # two SET clauses
    ("a", "SET attempt = attempt + :s", {}, {":s": {"S": "not a number"}}),  # values still checked
    ("c", "SET attempt = attempt + :n", {}, {":n": {"N": "1"}}),  # the item still read
    ("a", "SET a = :v REMOVE a", {}, {":v": {"S": "1"}}),
]


def _apply_updates() -> list[str]:
    import boto3

    answers = []
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name=REGION)
        _table(ddb)
        for round_ in range(2):
            for n, (key, expression, names, values) in enumerate(UPDATES):
                request = {
                    "TableName": "t",
                    "Key": {"id": {"S": key}},
                    "UpdateExpression": expression,
                }
                if names:
                    request["ExpressionAttributeNames"] = names
                request["ExpressionAttributeValues"] = values
                try:
                    ddb.update_item(**request)
                    answers.append(f"{round_}:{n} ok")
                except ddb.exceptions.ClientError as error:
                    answers.append(f"{round_}:{n} {error.response['Error']}")
        for key in "abc":
            answers.append(str(ddb.get_item(TableName="t", Key={"id": {"S": key}}).get("Item")))
    return answers


def test_update_validation_patch_gives_moto_s_answers_and_skips_only_repeat_checks():
    counts = {"moto": 0, "patched": 0}
    original_counts = ddb_validators.ActionCountValidator.verify_action_counts
    run = "moto"

    def counting(self, node):
        counts[run] += 1
        return original_counts(self, node)

    moto_patches._VALID_SHAPES.clear()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ddb_validators.ActionCountValidator, "verify_action_counts", counting)
        expected = _apply_updates()
        run = "patched"
        patch.setattr(
            DepthFirstTraverser, "traverse_node_recursively", moto_patches.traverse_node_recursively
        )
        patch.setattr(ddb_validators.UpdateExpressionValidator, "__init__", moto_patches.validator_init)
        patch.setattr(ddb_validators.UpdateExpressionValidator, "validate", moto_patches.validate)
        patch.setattr(UpdateExpressionParser, "make", staticmethod(moto_patches._parse_update))
        patch.setattr(ddb_validators, "deepcopy", moto_patches.tree_copy)
        got = _apply_updates()
    assert got == expected
    assert [a.split(" ")[0] for a in got if a.endswith(" ok")] == [
        f"{r}:{n}" for r in (0, 1) for n in range(5)
    ]
    assert sum("Two document paths overlap" in a for a in got) == 6
    assert sum("part of the key" in a for a in got) == 4
    # the action count ran again only where a shape had not validated before (errors included)
    assert 0 < counts["patched"] < counts["moto"]


def test_sandbox_moto_patches_off_leaves_moto_plain(monkeypatch):
    monkeypatch.setenv(moto_patches.PATCHES_ENV, "off")
    batch, traverse = SQSBackend.send_message_batch, DepthFirstTraverser.traverse_node_recursively
    moto_patches.apply()
    assert (SQSBackend.send_message_batch, DepthFirstTraverser.traverse_node_recursively) == (batch, traverse)
    assert batch is not moto_patches.send_message_batch
