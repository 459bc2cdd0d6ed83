"""Pure parsing: agent frames, job messages, settings fallbacks, result truncation (no AWS)."""

from __future__ import annotations

import json

import pytest

from lambdas.common.agent_actions import parse_agent_frame
from lambdas.common.job_message import BadJob, JobMessage, job_keys, parse_job_message
from lambdas.common.job_updates import MAX_RESULT_BYTES, fit_result
from lambdas.common.metrics import Counters
from lambdas.common.protocol import AgentRequest, FrameError
from lambdas.common.settings import Settings


def test_valid_frames_keep_only_known_fields_and_trim_free_text():
    frame = json.dumps(
        {
            "action": "job.result",
            "jobId": "j-1",
            "status": "failed",
            "reason": "r" * 300,
            "retryable": True,
            "result": {"n": 1},
            "agentId": "someone-else",
        }
    )
    assert parse_agent_frame(frame) == AgentRequest(
        "job.result",
        {"jobId": "j-1", "status": "failed", "reason": "r" * 256, "retryable": True, "result": {"n": 1}},
    )
    assert parse_agent_frame('{"action":"logs.upload","creatorId":"c-2"}') == AgentRequest("logs.upload", {})


@pytest.mark.parametrize(
    ("frame", "code", "message"),
    [
        ('{"action":"job.ack"}', "schema_invalid", "job.ack needs field 'jobId'"),
        (
            '{"action":"job.ack","jobId":"a b"}',
            "schema_invalid",
            "jobId must be 1-128 characters of [A-Za-z0-9_.:-]",
        ),
        ('{"action":"heartbeat","version":true}', "schema_invalid", "heartbeat.version has the wrong type"),
        (
            '{"action":"job.result","jobId":"j","status":"failed","retryable":1}',
            "schema_invalid",
            "job.result.retryable has the wrong type",
        ),
        (
            '{"action":"nope"}',
            "unknown_action",
            "action must be one of: heartbeat, job.ack, job.result, agent.pause, logs.upload, patch.check, "
            "patch.rejected",
        ),
        ("null", "json_invalid", "frame must be a JSON object"),
    ],
)
def test_bad_frames_say_what_was_wrong_and_what_is_allowed(frame, code, message):
    with pytest.raises(FrameError) as err:
        parse_agent_frame(frame)
    assert (err.value.code, err.value.message) == (code, message)


def test_job_message_round_trips_with_attempt():
    msg = parse_job_message(
        '{"jobId":"j","agentId":"a","creatorId":"c","kind":"k","payload":[1],"attempt":2}'
    )
    assert msg == JobMessage("j", "a", "c", "k", [1], False, 2)
    assert parse_job_message(msg.to_body()) == msg
    assert msg.assign_frame(300) == {
        "type": "job.assign",
        "jobId": "j",
        "kind": "k",
        "payload": [1],
        "attempt": 2,
        "leaseSeconds": 300,
        "traceId": "j",  # no producer traceId: the job is correlated by its id
    }


def test_trace_id_travels_from_the_message_to_the_assign_frame():
    body = '{"jobId":"j","agentId":"a","creatorId":"c","kind":"k","traceId":"req-42"}'
    msg = parse_job_message(body)
    assert (msg.trace_id, msg.correlation_id) == ("req-42", "req-42")
    assert parse_job_message(msg.to_body()) == msg
    assert msg.assign_frame(300)["traceId"] == "req-42"
    assert JobMessage.from_job_item({**json.loads(body), "traceId": "req-42"}, 2).trace_id == "req-42"


def test_a_bad_trace_id_never_fails_the_job():
    msg = parse_job_message('{"jobId":"j","agentId":"a","creatorId":"c","kind":"k","traceId":"bad id"}')
    assert (msg.trace_id, msg.correlation_id) == (None, "j")


@pytest.mark.parametrize(
    ("trace_id", "keys"),
    [
        ("req-42", {"jobId": "j", "correlation_id": "req-42"}),
        (None, {"jobId": "j"}),  # no traceId: the jobId correlates the job's lines
        ("j", {"jobId": "j"}),  # a traceId that is the jobId is not said twice
        ("", {"jobId": "j"}),
    ],
)
def test_a_jobs_log_keys_name_its_correlation_id_only_when_it_is_not_the_job_id(trace_id, keys):
    assert job_keys("j", trace_id) == keys


def test_oversized_job_message_is_refused_before_parsing():
    with pytest.raises(BadJob) as err:
        parse_job_message(json.dumps({"jobId": "j", "payload": "x" * 130_000}))
    assert (err.value.reason, err.value.status) == ("schema_invalid", 400)


def test_results_are_cut_to_the_item_budget():
    assert fit_result({"ok": True}) == ('{"ok":true}', False)
    assert fit_result(None) == (None, False)
    text, truncated = fit_result("é" * MAX_RESULT_BYTES)
    assert truncated and len(text.encode()) <= MAX_RESULT_BYTES


def test_bad_tunables_fall_back_to_the_documented_defaults():
    config = Settings.from_env({"LEASE_SECONDS": "soon", "MAX_ATTEMPTS": "-2"})
    assert (config.lease_seconds, config.max_attempts, config.stage) == (300, 3, "prod")


@pytest.mark.parametrize(
    ("delay", "grace", "expected"),
    [
        (None, None, (2, 10)),
        ("0", "0", (0, 0)),
        ("900", "30", (900, 30)),
        ("901", "-1", (2, 10)),  # SQS allows at most 900 s of delay
        ("soon", "", (2, 10)),
    ],
)
def test_connect_tunables_accept_zero_and_fall_back_outside_their_range(delay, grace, expected):
    env = {
        k: v for k, v in (("RELEASE_DELAY_SECONDS", delay), ("CONNECT_GRACE_SECONDS", grace)) if v is not None
    }
    config = Settings.from_env(env)
    assert (config.release_delay_seconds, config.connect_grace_seconds) == expected


def test_emf_document_has_both_namespaces_and_only_the_stage_dimension():
    counters = Counters()
    counters.add("Huntaze/Dispatcher", "BatchItems", 3)
    counters.add("Huntaze/ByoIP", "JobsAssigned", 2)
    assert counters.document("prod", 1000) == {
        "Stage": "prod",
        "BatchItems": 3,
        "JobsAssigned": 2,
        "_aws": {
            "Timestamp": 1000,
            "CloudWatchMetrics": [
                {
                    "Namespace": "Huntaze/Dispatcher",
                    "Dimensions": [["Stage"]],
                    "Metrics": [{"Name": "BatchItems", "Unit": "Count"}],
                },
                {
                    "Namespace": "Huntaze/ByoIP",
                    "Dimensions": [["Stage"]],
                    "Metrics": [{"Name": "JobsAssigned", "Unit": "Count"}],
                },
            ],
        },
    }
    assert Counters().document("prod", 1000) is None


def test_the_action_registry_is_what_ws_message_parses_and_runs() -> None:
    """One registry: an action is known to the parser exactly when it has a handler, and each
    registered schema's required fields are enforced for that action."""
    from lambdas.common.agent_actions import ACTIONS

    with pytest.raises(FrameError) as err:
        parse_agent_frame('{"action":"job.cancel","jobId":"job-1"}')
    assert (err.value.code, err.value.message) == (
        "unknown_action",
        "action must be one of: " + ", ".join(ACTIONS),
    )
    for name, action in ACTIONS.items():
        required = [field for field, (_, needed) in action.schema.fields.items() if needed]
        for missing in required:
            frame = {"action": name, **{field: "x-1" for field in required if field != missing}}
            with pytest.raises(FrameError) as err:
                parse_agent_frame(json.dumps(frame))
            assert err.value.message == f"{name} needs field '{missing}'"
