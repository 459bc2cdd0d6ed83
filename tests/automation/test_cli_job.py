"""`byoip job show`: the item, its transitions and its log lines across functions, either way."""

from __future__ import annotations

import json
import time

import boto3
import pytest
from boto3.dynamodb.types import TypeSerializer

from automation.job_story import LogSearch, QueryTimeout, read_insights
from tests.automation.conftest import REGION, one_error_line

NOW = int(time.time())
DISPATCHER = "/aws/lambda/byoip-test-dispatcher-sqs"
WS_MESSAGE = "/aws/lambda/byoip-test-ws-message"


def line(message, **keys):
    return json.dumps({"level": "INFO", "message": message} | keys)


@pytest.fixture
def story(tables, monkeypatch):
    """job-1 (traceId req-1) completed; lines about it, about job-2, and one too old to read."""
    monkeypatch.setattr("automation.commands.job._clock", lambda: NOW)
    item = {
        "jobId": "job-1",
        "status": "completed",
        "agentId": "agent-1",
        "creatorId": "creator-1",
        "kind": "post.publish",
        "attempt": 1,
        "traceId": "req-1",
        "createdAt": NOW - 60,
        "updatedAt": NOW - 30,
        "finishedAt": NOW - 30,
    }
    tables.put_item(
        TableName="byoip-test-jobs", Item={k: TypeSerializer().serialize(v) for k, v in item.items()}
    )
    logs = boto3.client("logs", region_name=REGION)
    lines = {
        DISPATCHER: [
            (NOW - 2 * 86400, line("job_assigned", jobId="job-1", correlation_id="req-1")),
            (NOW - 60, line("job_assigned", jobId="job-1", correlation_id="req-1")),
            (NOW - 59, line("job_assigned", jobId="job-2")),
            (NOW - 58, "START RequestId: 1 Version: $LATEST"),
        ],
        WS_MESSAGE: [
            (NOW - 40, line("ws_message_failed code=internal_error", correlation_id="req-1", level="ERROR")),
            (NOW - 30, line("job_result status=completed requeued=False", jobId="job-1")),
            (NOW - 29, line("job_result status=completed requeued=False", jobId="job-2")),
        ],
    }
    for group, events in lines.items():
        logs.create_log_group(logGroupName=group)
        logs.create_log_stream(logGroupName=group, logStreamName="s")
        logs.put_log_events(
            logGroupName=group,
            logStreamName="s",
            logEvents=[{"timestamp": at * 1000, "message": text} for at, text in events],
        )
    return item


STORY = [
    "dispatcher-sqs  job_assigned",
    "ws-message      ERROR ws_message_failed code=internal_error",
    "ws-message      job_result status=completed requeued=False",
]


@pytest.mark.parametrize("via", ["insights", "filter"])
def test_show_tells_the_jobs_story_across_functions_in_order(story, cli, via):
    result = cli("job", "show", "job-1", "--stage", "test", "--via", via)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "job job-1 (stage test): completed, attempt 1, creator creator-1, agent agent-1" in out
    assert "traceId req-1" in out
    # the transitions the item dates, oldest first
    created, finished = out.index("created (first held"), out.index("finished: completed (attempt 1)")
    assert created < finished
    # the job's lines (by jobId or by its correlation id), none of job-2's, none older than --since
    shown = [row.split("  ", 2)[-1].strip() for row in out.splitlines() if row.startswith("  20")]
    assert [s for s in shown if s.startswith(("dispatcher-sqs", "ws-message"))] == STORY
    assert "job-2" not in out.split("log lines", 1)[1].split("console:", 1)[0]
    assert ": 3" in out.split("log lines", 1)[1].splitlines()[0]
    assert "console: https://us-east-1.console.aws.amazon.com/cloudwatch/home" in out
    assert "saved query: BYOIP-test/job-story" in out


@pytest.mark.parametrize("via", ["insights", "filter"])
def test_a_job_without_a_trace_id_is_found_by_its_job_id(story, tables, cli, via):
    # GIVEN job-2, whose producer sent no traceId: its item's traceId is its jobId, and its lines
    # carry `jobId` alone (no `correlation_id` that would only repeat it)
    item = {**story, "jobId": "job-2", "traceId": "job-2"}
    tables.put_item(
        TableName="byoip-test-jobs", Item={k: TypeSerializer().serialize(v) for k, v in item.items()}
    )
    # WHEN on-call asks for its story
    result = cli("job", "show", "job-2", "--stage", "test", "--via", via)
    # THEN both of its lines are there, and none of job-1's
    assert result.exit_code == 0, result.output
    shown = [row.split("  ", 2)[-1].strip() for row in result.stdout.splitlines() if row.startswith("  20")]
    assert [s for s in shown if s.startswith(("dispatcher-sqs", "ws-message"))] == [
        "dispatcher-sqs  job_assigned",
        "ws-message      job_result status=completed requeued=False",
    ]


def test_a_wider_since_reads_older_lines(story, cli):
    result = cli("job", "show", "job-1", "--stage", "test", "--via", "filter", "--since", "3d")
    assert result.exit_code == 0, result.output
    assert result.stdout.count("job_assigned") == 2


def test_the_sandbox_is_read_with_filter_log_events(story, cli, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")  # what the sandbox exports
    from automation.commands.job import default_via

    assert default_via() == "filter"
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    assert default_via() == "insights"


def test_an_unknown_job_is_one_error_line(story, cli):
    result = cli("job", "show", "job-9", "--stage", "test")
    assert result.exit_code == 1
    assert one_error_line(result) == "error: no job job-9 in byoip-test-jobs (stage test, us-east-1)"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["job id!"], "error: job id 'job id!' is not an id"),
        (
            ["job-1", "--since", "1y"],
            "error: --since '1y' must be a duration like 90m, 24h or 7d (at most 30d)",
        ),
        (["job-1", "--since", "31d"], "error: --since '31d' must be a duration"),
        (["job-1", "--via", "grep"], "error: --via 'grep' must be one of: insights, filter"),
    ],
)
def test_bad_input_is_one_error_line(story, cli, args, message):
    result = cli("job", "show", *args, "--stage", "test")
    assert result.exit_code == 2
    assert one_error_line(result).startswith(message)


class SlowInsights:
    """A Logs Insights that never finishes."""

    def __init__(self):
        self.stopped = []

    def start_query(self, **_):
        return {"queryId": "q-1"}

    def get_query_results(self, queryId):
        return {"status": "Running", "results": []}

    def stop_query(self, queryId):
        self.stopped.append(queryId)


def test_insights_polling_is_bounded_and_stops_the_query():
    slow, sleeps = SlowInsights(), []
    with pytest.raises(QueryTimeout, match="did not finish in 3 s"):
        read_insights(
            slow,
            LogSearch({DISPATCHER: "dispatcher-sqs"}, "j", "j", 0, 1000),
            wait_seconds=3,
            sleep=sleeps.append,
        )
    assert (slow.stopped, sum(sleeps)) == (["q-1"], 3)
