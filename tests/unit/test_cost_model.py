"""The cost benchmark's rules: DynamoDB capacity per call, Lambda's billed duration, the table's totals."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from benchmarks.cost_model import BEFORE, ROWS, CallCounter, after_rows, billed_gb_seconds, table


def _call(counter: CallCounter, op: str, service: str = "dynamodb", **params) -> None:
    model = SimpleNamespace(name=op, service_model=SimpleNamespace(service_name=service))
    counter(model, params)


def _run(counter: CallCounter, *, jobs: int, frames: int, dispatcher_invocations: int) -> dict:
    """A benchmark run's result as after_rows reads it: no duration, no log bytes."""
    return {
        "jobs": jobs,
        "counter": counter,
        "inbound_frames": frames,
        "dispatcher_invocations": dispatcher_invocations,
        "gb_seconds": 0.0,
        "dispatcher_log_bytes": 0,
        "ws_message_log_bytes": 0,
    }


@pytest.mark.parametrize(
    ("op", "params", "wru", "rru"),
    [
        ("UpdateItem", {}, 1, 0),
        ("TransactWriteItems", {"TransactItems": [{}, {}]}, 4, 0),
        ("GetItem", {"ConsistentRead": True}, 0, 1),
        ("GetItem", {}, 0, 0.5),
        (
            "BatchGetItem",
            {"RequestItems": {"a": {"Keys": [{}], "ConsistentRead": False}, "b": {"Keys": [{}, {}]}}},
            0,
            1.5,
        ),
        ("BatchGetItem", {"RequestItems": {"a": {"Keys": [{}], "ConsistentRead": True}}}, 0, 1),
    ],
)
def test_capacity_per_call(op, params, wru, rru):
    counter = CallCounter()
    with counter.acting("dispatcher"):
        _call(counter, op, **params)
    assert (counter.wru["dispatcher"], counter.rru["dispatcher"]) == (wru, rru)
    assert counter.by_actor("dispatcher") == {("dynamodb", op): 1}


def test_other_services_cost_no_capacity():
    counter = CallCounter()
    _call(counter, "PostToConnection", service="apigatewaymanagementapi")
    assert (sum(counter.wru.values()), sum(counter.rru.values())) == (0, 0)


def test_lambda_bills_each_invocation_rounded_up_to_the_millisecond():
    # 1.2 ms -> 2 ms, 0.999 ms -> 1 ms, 3 ms -> 3 ms: 6 ms at 1024 MB is 0.006 GB-s
    assert billed_gb_seconds([0.0012, 0.000999, 0.003], 1024) == pytest.approx(0.006)
    assert billed_gb_seconds([0.010], 256) == pytest.approx(0.0025)


def test_the_table_prices_a_run_and_totals_both_columns():
    counter = CallCounter()
    with counter.acting("dispatcher"):
        _call(counter, "UpdateItem")
        _call(counter, "UpdateItem")
        _call(counter, "PostToConnection", service="apigatewaymanagementapi")
    rows = after_rows(_run(counter, jobs=1, frames=1, dispatcher_invocations=1))
    assert rows["ddb_dispatcher"] == ("2.00 WRU + 0.00 RRU", pytest.approx(1.25))
    assert rows["ws_messages"] == ("2.0", pytest.approx(2.0))
    assert rows["lambda_requests"] == ("2.00", pytest.approx(0.4))
    lines = table(rows)
    assert len(lines) == 1 + len(ROWS) + 1
    assert lines[-1].split()[-2:] == [f"{sum(usd for _, usd in BEFORE.values()):.2f}", "3.65"]


def test_a_confirming_heartbeat_charges_the_jobs_only_its_batch_read():
    # the heartbeat is sent once a minute anyway: its connection read, agent-item write and answer
    # are not per job; the BatchGetItem of the results it lists is (0.5 RRU a listed job)
    counter = CallCounter()
    with counter.acting("heartbeat"):
        _call(counter, "GetItem")
        _call(counter, "UpdateItem")
        _call(counter, "BatchGetItem", RequestItems={"jobs": {"Keys": [{}, {}], "ConsistentRead": False}})
        _call(counter, "PostToConnection", service="apigatewaymanagementapi")
    rows = after_rows(_run(counter, jobs=2, frames=2, dispatcher_invocations=0))
    assert rows["ddb_ws_message"] == ("0.00 WRU + 0.50 RRU", pytest.approx(0.0625))
    assert rows["ws_messages"][0] == "1.0"  # the two results; the heartbeat's answer is not per job
