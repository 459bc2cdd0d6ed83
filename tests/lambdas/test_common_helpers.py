"""ddb.py, limits.py, connections.py and batch.py helpers: exact values, both sides of each boundary."""

from __future__ import annotations

import json
from decimal import Decimal

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from lambdas.common import aws, batch, connections, ddb, limits
from lambdas.common.limits import Refusal
from tests.lambdas import helpers as h
from tests.lambdas.conftest import DAY, NOW


def client_error(code: str, **response: object) -> ClientError:
    return ClientError({"Error": {"Code": code}, **response}, "Op")


# --- ddb ------------------------------------------------------------------------------------


def test_ddb_serializes_values_keys_and_items():
    assert ddb.values(now=1, name="a", flag=False) == {
        ":now": {"N": "1"},
        ":name": {"S": "a"},
        ":flag": {"BOOL": False},
    }
    assert ddb.key("jobId", "j") == {"jobId": {"S": "j"}}
    assert ddb.to_item({"a": 1, "b": None, "c": "x"}) == {"a": {"N": "1"}, "c": {"S": "x"}}


def test_ddb_deserializes_whole_numbers_as_int_and_others_as_float():
    assert ddb.from_item(None) is None
    item = ddb.from_item({"n": {"N": "2"}, "f": {"N": "2.5"}, "s": {"S": "x"}})
    assert item == {"n": 2, "f": 2.5, "s": "x"}
    assert (type(item["n"]), type(item["f"])) == (int, float)
    assert ddb._plain(Decimal("-3")) == -3 and ddb._plain("x") == "x"


def test_ddb_reads_error_codes_and_cancellation_reasons():
    assert ddb.error_code(client_error("Boom")) == "Boom"
    assert ddb.error_code(ClientError({}, "Op")) == ""
    assert ddb.is_condition_failure(client_error("ConditionalCheckFailedException")) is True
    assert ddb.is_condition_failure(client_error("ValidationException")) is False
    assert ddb.cancellation_reasons(client_error("ThrottlingException")) is None
    assert ddb.cancellation_reasons(client_error("TransactionCanceledException")) == []
    reasons = [{"Code": "None"}, {"Code": "ConditionalCheckFailed"}]
    assert ddb.cancellation_reasons(
        client_error("TransactionCanceledException", CancellationReasons=reasons)
    ) == [
        {"Code": "None"},
        {"Code": "ConditionalCheckFailed"},
    ]


def test_ddb_failed_condition_checks_the_index_and_the_code():
    reasons = [{"Code": "ConditionalCheckFailed"}, {"Code": "None"}]
    assert [ddb.failed_condition(reasons, i) for i in range(3)] == [True, False, False]


def test_ddb_throttle_codes():
    assert "ThrottlingException" in ddb.THROTTLE_CODES
    assert "ConditionalCheckFailedException" not in ddb.THROTTLE_CODES


def test_ddb_get_is_consistent_and_update_if_says_whether_it_wrote(queues):
    client = boto3.client("dynamodb", region_name=h.REGION)
    stub = Stubber(client)
    stub.add_response(
        "get_item",
        {"Item": {"k": {"S": "v"}}},
        {"TableName": "t", "Key": {"k": {"S": "v"}}, "ConsistentRead": True},
    )
    stub.add_response("get_item", {}, {"TableName": "t", "Key": {"k": {"S": "w"}}, "ConsistentRead": True})
    request = {"TableName": "t", "Key": {"k": {"S": "v"}}, "UpdateExpression": "SET a = :a"}
    stub.add_response("update_item", {}, request)
    stub.add_client_error("update_item", service_error_code="ConditionalCheckFailedException")
    stub.add_client_error("update_item", service_error_code="ProvisionedThroughputExceededException")
    stub.activate()
    aws.override("dynamodb", client)
    assert ddb.get("t", "k", "v") == {"k": "v"}
    assert ddb.get("t", "k", "w") is None
    assert ddb.update_if(**request) is True
    assert ddb.update_if(**request) is False
    with pytest.raises(ClientError, match="ProvisionedThroughputExceededException"):
        ddb.update_if(**request)
    stub.assert_no_pending_responses()


# --- limits ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "refusal"),
    [
        (None, Refusal("limit_exceeded", 429, holdable=False)),
        ({"paused": True, "dailyQuota": 1, f"used#{DAY}": 1}, Refusal("creator_paused", 423, holdable=True)),
        ({"paused": False, "dailyQuota": 2, f"used#{DAY}": 2}, Refusal("limit_exceeded", 429, holdable=True)),
        ({"dailyQuota": 2, f"used#{DAY}": 3}, Refusal("limit_exceeded", 429, holdable=True)),
        ({"dailyQuota": 2, f"used#{DAY}": 1}, Refusal("limit_exceeded", 429, holdable=False)),
        ({"dailyQuota": 2, "used#2020-01-01": 9}, Refusal("limit_exceeded", 429, holdable=False)),
        ({"dailyQuota": 0}, Refusal("limit_exceeded", 429, holdable=True)),
        ({"maxConcurrent": 1, "inFlight": 1}, Refusal("limit_exceeded", 429, holdable=False)),
    ],
)
def test_a_refusal_is_classified_by_the_limits_item(item, refusal):
    assert limits.refusal(item, DAY) == refusal


def test_release_op_refunds_the_quota_only_when_asked():
    plain = limits.release_op("c")["Update"]
    assert (plain["UpdateExpression"], plain["ConditionExpression"], "ExpressionAttributeNames" in plain) == (
        "SET inFlight = inFlight - :one",
        "inFlight > :zero",
        False,
    )
    refund = limits.release_op("c", refund_day=DAY)["Update"]
    assert refund["ExpressionAttributeNames"] == {"#used": f"used#{DAY}"}
    assert refund["ConditionExpression"] == "inFlight > :zero AND #used > :zero"
    assert refund["ExpressionAttributeValues"] == {":zero": {"N": "0"}, ":one": {"N": "1"}}


def test_pause_keeps_the_first_pauser(queues):
    assert limits.pause("creator-1", by="alice", reason="abuse", now=NOW) is True
    assert limits.pause("creator-1", by="bob", reason="other", now=NOW + 1) is False
    assert limits.get_limits("creator-1") == {
        "creatorId": "creator-1",
        "paused": True,
        "pausedBy": "alice",
        "pauseReason": "abuse",
        "pausedAt": NOW,
    }
    h.put_limits("creator-2", paused=False)
    assert limits.pause("creator-2", by="bob", reason="r", now=NOW) is True
    assert limits.get_limits("creator-3") is None


# --- connections ----------------------------------------------------------------------------


def test_register_writes_the_connection_and_makes_it_current(queues):
    replaced = connections.register(
        "agent-1",
        "creator-1",
        "conn-1",
        NOW,
        token_expires_at=NOW + 600,
        token_issued_at=NOW - 5,
        token_kid="k1",
    )
    assert replaced is None
    assert h.conn("conn-1") == {
        "pk": "conn#conn-1",
        "agentId": "agent-1",
        "creatorId": "creator-1",
        "connectedAt": NOW,
        "tokenExpiresAt": NOW + 600,
        "tokenIssuedAt": NOW - 5,
        "tokenKid": "k1",
        "ttl": NOW + 7200,
    }
    assert h.agent("agent-1") == {
        "pk": "agent#creator-1#agent-1",
        "agentId": "agent-1",
        "creatorId": "creator-1",
        "connectionId": "conn-1",
        "connectedAt": NOW,
        "lastSeen": NOW,
        "counted": True,  # in the connected-agents count (connections.connected_count)
    }
    assert connections.connected_count() == 1


def test_register_returns_the_connection_it_replaced(queues):
    connections.register("agent-1", "creator-1", "conn-1", NOW)
    assert connections.register("agent-1", "creator-1", "conn-2", NOW + 1) == "conn-1"
    assert connections.register("agent-1", "creator-1", "conn-2", NOW + 2) is None  # the same one again
    assert connections.register("agent-1", "creator-2", "conn-3", NOW + 3) is None  # another creator's
    assert (connections.forget("conn-1"), connections.forget("conn-1")) == (True, False)


def test_touch_moves_last_seen_the_version_and_the_ttl_but_never_revives_a_connection(queues):
    connections.register("agent-1", "creator-1", "conn-1", NOW)
    connections.touch("creator-1", "agent-1", "conn-1", NOW + 60, "1.2.3")
    assert (h.agent("agent-1")["lastSeen"], h.agent("agent-1")["version"]) == (NOW + 60, "1.2.3")
    assert h.conn("conn-1")["ttl"] == NOW + 60 + 7200
    connections.touch("creator-1", "agent-1", "conn-1", NOW + 120, None)
    assert (h.agent("agent-1")["lastSeen"], h.agent("agent-1")["version"]) == (NOW + 120, "1.2.3")
    connections.drop("creator-1", "agent-1", "conn-1", NOW + 130)
    connections.touch("creator-1", "agent-1", "conn-1", NOW + 180, None)
    assert h.conn("conn-1") is None


def test_drop_removes_only_the_current_connection(queues):
    connections.register("agent-1", "creator-1", "conn-1", NOW)
    connections.register("agent-1", "creator-1", "conn-2", NOW + 1)
    assert connections.drop("creator-1", "agent-1", "conn-1", NOW + 5) is False
    assert (h.conn("conn-1"), h.agent("agent-1")["connectionId"]) == (None, "conn-2")
    assert connections.drop("creator-1", "agent-1", "conn-2", NOW + 6) is True
    agent = h.agent("agent-1")
    assert ("connectionId" in agent, agent["lastSeen"], h.conn("conn-2")) == (False, NOW + 6, None)
    connections.register("agent-1", "creator-1", "conn-3", NOW + 7)
    assert connections.drop(None, "agent-1", "conn-3", NOW + 8) is False
    assert connections.drop("creator-1", None, "conn-3", NOW + 8) is False
    assert (h.conn("conn-3"), h.agent("agent-1")["connectionId"]) == (None, "conn-3")


def test_revoked_since_is_the_later_of_the_creators_and_the_agents(queues):
    assert connections.revoked_since("creator-1", "agent-1", None) == 0
    connections.register("agent-1", "creator-1", "conn-1", NOW)
    h.ddb().update_item(
        TableName=h.ENV["AGENTS_TABLE"],
        Key={"pk": {"S": "agent#creator-1#agent-1"}},
        UpdateExpression="SET tokensValidAfter = :t",
        ExpressionAttributeValues={":t": {"N": str(NOW - 10)}},
    )
    assert connections.revoked_since("creator-1", "agent-1", {"tokensValidAfter": NOW - 20}) == NOW - 10
    assert connections.revoked_since("creator-1", "agent-1", {"tokensValidAfter": NOW - 5}) == NOW - 5
    assert connections.revoked_since("creator-1", "agent-2", {}) == 0


@pytest.mark.parametrize(
    ("item", "now", "reason"),
    [
        ({"revoked": True, "tokenExpiresAt": NOW + 600}, NOW, "token_revoked"),
        ({"tokenExpiresAt": NOW}, NOW + 900, None),
        ({"tokenExpiresAt": NOW}, NOW + 901, "token_expired"),
        ({"tokenExpiresAt": 0}, NOW + 10**6, None),
        ({}, NOW + 10**6, None),
        ({"revoked": False, "tokenExpiresAt": None}, NOW, None),
    ],
)
def test_closing_reason(item, now, reason):
    assert connections.closing_reason(item, now) == reason


@pytest.mark.parametrize(
    ("issued_at", "mark", "reason"),
    [
        (NOW, NOW, "token_revoked"),  # issued in the second of the revocation: revoked
        (NOW + 1, NOW, None),
        (None, NOW, "token_revoked"),  # an item without tokenIssuedAt counts as issued at 0
        (NOW, 0, None),  # no revocation mark
    ],
)
def test_closing_reason_compares_the_tokens_iat_with_the_revocation_mark(issued_at, mark, reason):
    item = {"tokenExpiresAt": NOW + 600, **({"tokenIssuedAt": issued_at} if issued_at else {})}
    assert connections.closing_reason(item, NOW, mark) == reason


def test_offline_check_op(queues):
    assert connections.offline_check_op("c", "a") == {
        "ConditionCheck": {
            "TableName": h.ENV["AGENTS_TABLE"],
            "Key": {"pk": {"S": "agent#c#a"}},
            "ConditionExpression": "attribute_not_exists(connectionId)",
        }
    }
    op = connections.offline_check_op("c", "a", "conn-1")["ConditionCheck"]
    assert (op["ConditionExpression"], op["ExpressionAttributeValues"], op["Key"]) == (
        "attribute_not_exists(connectionId) OR connectionId = :stale",
        {":stale": {"S": "conn-1"}},
        {"pk": {"S": "agent#c#a"}},
    )


# --- batch ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "hint"),
    [
        (None, "-"),
        ("{not json", "-"),
        ('["job-1"]', "-"),
        ('{"jobId": 5}', "-"),
        ('{"jobId": ""}', "-"),
        ('{"agentId": "a"}', "-"),
        ("[" * 100_000 + "]" * 100_000, "-"),
        (json.dumps({"jobId": "job-1"}), "job-1"),
    ],
)
def test_job_id_hint(body, hint):
    assert batch.job_id_hint(body) == hint


@pytest.mark.parametrize(
    ("err", "classified"),
    [
        (client_error("ThrottlingException"), ("throttled", 429)),
        (client_error("ProvisionedThroughputExceededException"), ("throttled", 429)),
        (
            client_error(
                "TransactionCanceledException",
                CancellationReasons=[{"Code": "None"}, {"Code": "ThrottlingError"}],
            ),
            ("throttled", 429),
        ),
        (
            client_error(
                "TransactionCanceledException", CancellationReasons=[{"Code": "TransactionConflict"}]
            ),
            ("throttled", 429),
        ),
        (
            client_error(
                "TransactionCanceledException", CancellationReasons=[{"Code": "ConditionalCheckFailed"}]
            ),
            ("internal_error", 500),
        ),
        (client_error("AccessDeniedException"), ("internal_error", 500)),
        (RuntimeError("boom"), ("internal_error", 500)),
    ],
)
def test_classify(err, classified):
    assert batch.classify(err) == classified


@pytest.mark.parametrize(
    ("sent_ms", "on_time"),
    [
        ((NOW - 60) * 1000, True),
        ((NOW - 60) * 1000 - 1, False),
        (str((NOW - 61) * 1000), False),
        (str(NOW * 1000), True),
        (None, False),
        ("soon", False),
    ],
)
def test_on_time_boundary(sent_ms, on_time):
    assert batch.on_time(sent_ms, NOW, 60) is on_time


def test_the_quota_day_is_the_utc_day_whatever_the_local_time_zone(monkeypatch):
    """The daily counter's key is the UTC day: in UTC+13:45 the local date is already the next day."""
    import time as time_module

    from lambdas.common.clock import day_of

    monkeypatch.setenv("TZ", "Pacific/Chatham")
    time_module.tzset()
    try:
        assert day_of(1_700_000_000 - 1_700_000_000 % 86400 + 86399) == "2023-11-14"  # 23:59:59 UTC
        assert day_of(1_700_000_000 - 1_700_000_000 % 86400 + 86400) == "2023-11-15"  # the next UTC midnight
    finally:
        monkeypatch.undo()
        time_module.tzset()
