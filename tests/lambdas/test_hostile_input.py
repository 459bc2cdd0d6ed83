"""Hostile input at the runtime's parsers: deep JSON and ids with a trailing newline."""

from __future__ import annotations

import json

import pytest

from lambdas.common.agent_actions import parse_agent_frame
from lambdas.common.job_message import BadJob, parse_job_message
from lambdas.common.protocol import FrameError, is_id
from lambdas.dispatcher_sqs.handler import handler as dispatch
from lambdas.ws_message.handler import handler as message
from tests.lambdas import helpers as h

DEEP = "[" * 100_000  # overflows json's recursion limit: RecursionError, not ValueError
NESTED_OK = "[" * 500 + "]" * 500  # deep but parseable: the boundary's other side


def test_deep_json_frame_is_json_invalid_and_moderate_nesting_still_parses():
    with pytest.raises(FrameError) as err:
        parse_agent_frame(DEEP[: 30 * 1024])  # under the 32 KB frame cap, so the parser sees it
    assert err.value.code == "json_invalid"
    with pytest.raises(FrameError) as err:
        parse_agent_frame(NESTED_OK)
    assert err.value.code == "json_invalid"  # parsed, but an array is not a frame
    assert err.value.message == "frame must be a JSON object"


def test_deep_json_job_message_is_json_invalid():
    with pytest.raises(BadJob) as err:
        parse_job_message(DEEP)
    assert (err.value.reason, err.value.status) == ("json_invalid", 400)


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("job-1", True),
        ("a" * 128, True),
        ("a" * 129, False),
        ("job-1\n", False),
        ("job-1\r\n", False),
        ("\njob-1", False),
        ("job 1", False),
        ("", False),
        (7, False),
    ],
)
def test_ids_match_whole_strings_only(value, valid):
    assert is_id(value) is valid


def test_job_id_with_a_trailing_newline_is_schema_invalid_in_frames_and_messages():
    with pytest.raises(FrameError) as err:
        parse_agent_frame(json.dumps({"action": "job.ack", "jobId": "job-1\n"}))
    assert err.value.code == "schema_invalid"
    with pytest.raises(FrameError) as err:
        parse_agent_frame(json.dumps({"action": "heartbeat", "jobs": ["job-1", "job-2\n"]}))
    assert (err.value.code, err.value.message) == (
        "schema_invalid",
        "heartbeat.jobs must be at most 25 job ids, each 1-128 characters of [A-Za-z0-9_.:-]",
    )
    for field in ("jobId", "agentId", "creatorId"):
        with pytest.raises(BadJob) as bad:
            parse_job_message(json.dumps({**json.loads(h.job_body("job-1")), field: "x\n"}))
        assert bad.value.reason == "schema_invalid"


def test_dispatcher_dead_letters_deep_json_once_as_json_invalid(queues, clock, out):
    # GIVEN a message nested 100,000 deep; WHEN the dispatcher gets it
    response = dispatch(h.sqs_event(DEEP), None)
    # THEN it is not retried five times as internal_error: it goes to the DLQ as json_invalid
    assert response == {"batchItemFailures": []}
    assert h.drain(queues["DLQ_URL"]) == [{"body": DEEP, "attributes": {"reason": "json_invalid"}}]
    assert [m for m in out.messages() if m.startswith("batch_item_failed")] == [
        "batch_item_failed jobId=- reason=json_invalid status=400"
    ]


def test_ws_message_answers_deep_json_with_json_invalid(online, clock, out):
    assert message(h.message_event(DEEP[: 30 * 1024], "conn-1"), None) == {"statusCode": 200}
    reply = h.frames("conn-1")[-1]
    assert reply["type"] == "error" and reply["code"] == "json_invalid"
    assert "ws_message_failed" not in " ".join(out.messages())
