"""The black-box probe over moto: its trip through the real handlers, each failing step, its metrics."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlparse

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from websockets.datastructures import Headers
from websockets.exceptions import InvalidStatus
from websockets.http11 import Response

from contract.callers import as_nobody
from lambdas.common import aws, connections, probe
from lambdas.common.reserved import PROBE_CREATOR, probe_agent
from lambdas.common.settings import settings
from lambdas.dispatcher_sqs.handler import handler as dispatch
from lambdas.probe.handler import handler as probe_handler
from lambdas.ws_connect.handler import handler as connect
from lambdas.ws_disconnect.handler import handler as disconnect
from lambdas.ws_message.handler import handler as message
from tests.lambdas import helpers as h
from tests.lambdas.conftest import NOW

CONNECTION = "conn-probe"
AGENT = probe_agent(NOW // 60)  # the agent of a run invoked without a schedule time


class Gateway:
    """A WebSocket connection served by the real handlers, as API Gateway would serve it.

    `recv` first lets the dispatcher take what JobsQueue holds (as the event source would), then
    returns the next frame pushed to the connection; nothing left: TimeoutError.
    """

    def __init__(self, queue_url: str, *, dispatcher: bool = True, acks: bool = True) -> None:
        self.queue_url = queue_url
        self.dispatcher = dispatcher
        self.acks = acks
        self.read = 0
        self.sent: list[dict[str, Any]] = []
        self.opened_with: str | None = None

    def open(self, url: str, timeout_s: float) -> Gateway:
        token = parse_qs(urlparse(url).query)["token"][0]
        status = connect(h.connect_event(token, CONNECTION), None)["statusCode"]
        if status != 200:
            raise InvalidStatus(Response(status, "refused", Headers()))
        self.opened_with = token
        return self

    def __enter__(self) -> Gateway:
        return self

    def __exit__(self, *exc: object) -> None:
        disconnect(h.disconnect_event(CONNECTION), None)

    def recv(self, timeout: float | None = None) -> str:
        if self.dispatcher:
            with as_nobody():  # the event source's receive, not the probe's
                bodies = [m["body"] for m in h.drain(self.queue_url)]
            if bodies:
                dispatch(h.sqs_event(*bodies, sent_at=NOW), None)
        pushed = h.frames(CONNECTION) if self._has_frames() else []
        if self.read >= len(pushed):
            raise TimeoutError
        self.read += 1
        return json.dumps(pushed[self.read - 1])

    def send(self, data: str) -> None:
        frame = json.loads(data)
        self.sent.append(frame)
        if self.acks:
            message(h.message_event(frame, CONNECTION), None)

    def _has_frames(self) -> bool:
        try:
            h.frames(CONNECTION)
        except KeyError:
            return False
        return True


def emf_totals(out: Any) -> dict[str, Any]:
    totals: dict[str, Any] = {}
    for doc in out.emf():
        for directive in doc["_aws"]["CloudWatchMetrics"]:
            assert directive["Dimensions"] == [["Stage"]]
            for metric in directive["Metrics"]:
                key = (directive["Namespace"], metric["Name"], metric["Unit"])
                totals[key] = totals.get(key, 0) + doc[metric["Name"]]
    return totals


@pytest.fixture
def probe_env(queues: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("WS_PUBLIC_URL", "wss://abc123.execute-api.eu-west-1.amazonaws.com/prod")
    return queues


@pytest.fixture
def gateway(probe_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Gateway]:
    gw = Gateway(probe_env["JOBS_QUEUE_URL"])
    monkeypatch.setattr(probe, "open_websocket", gw.open)
    yield gw


def test_a_healthy_trip_records_success_and_latency_and_counts_in_no_sli(gateway, clock, out):
    # GIVEN a healthy path: ws-connect, JobsQueue, the dispatcher and ws-message
    # WHEN the probe runs
    summary = probe_handler({}, None)
    # THEN its job made the whole trip and it says so, once, with its latency
    assert (summary["ok"], summary["otherJobs"]) == (True, 0)
    assert isinstance(summary["latencyMs"], int)
    (pushed,) = [f for f in h.frames(CONNECTION) if f.get("type") == "job.assign"]
    assert (pushed["kind"], pushed["payload"]) == ("probe", {"probe": True})
    job = h.job(pushed["jobId"])
    assert (job["status"], job["creatorId"], job["agentId"]) == ("completed", PROBE_CREATOR, AGENT)
    assert [m for m in out.messages() if m.startswith("probe ")] == [
        f"probe ok latencyMs={summary['latencyMs']} otherJobs=0"
    ]
    # AND the only metrics of the trip are the probe's own: no job, batch or SLI counter moved (the
    # dispatcher's invocation still declares its batch counters, at zero)
    totals = emf_totals(out)
    assert {k[:2]: v for k, v in totals.items()} == {
        ("Huntaze/Dispatcher", "BatchItems"): 0,
        ("Huntaze/Dispatcher", "BatchItemFailures"): 0,
        ("Huntaze/Probe", "ProbeSuccess"): 1,
        ("Huntaze/Probe", "ProbeLatency"): summary["latencyMs"],
    }
    assert ("Huntaze/Probe", "ProbeLatency", "Milliseconds") in totals
    # AND no CreatorLimits counter moved for it
    assert h.creator_limits(PROBE_CREATOR) is None
    assert "connectionId" not in h.agent(AGENT, PROBE_CREATOR)  # disconnected at the end


def test_the_probe_mints_with_the_current_key_from_secrets_manager(gateway, clock, out, monkeypatch):
    # GIVEN the key only in Secrets Manager, as deployed
    sm = boto3.client("secretsmanager", region_name=h.REGION)
    arn = sm.create_secret(Name="byoip/test/ws-jwt", SecretString=h.SECRET)["ARN"]
    monkeypatch.delenv("WS_JWT_SECRET")
    monkeypatch.setenv("WS_JWT_SECRET_ARN", arn)
    # WHEN the probe runs THEN ws-connect accepts its token and the trip succeeds
    assert probe_handler({}, None)["ok"] is True


def test_a_refused_connect_is_step_connect_and_sends_nothing(gateway, clock, out, monkeypatch):
    # GIVEN ws-connect cannot write the agents table (every $connect answered 503)
    def denied(*args: Any, **kwargs: Any) -> None:
        raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "-"}}, "PutItem")

    monkeypatch.setattr(connections, "register", denied)
    # WHEN the probe runs
    summary = probe_handler({}, None)
    # THEN it fails at connect, with the status, records 0 and queues no job
    assert (summary["ok"], summary["step"], summary["reason"]) == (False, "connect", "status_503")
    assert "probe failed step=connect reason=status_503" in out.messages()
    assert h.drain(gateway.queue_url) == []
    assert {k[:2]: v for k, v in emf_totals(out).items()} == {("Huntaze/Probe", "ProbeSuccess"): 0}


def test_an_unreadable_key_is_step_connect(probe_env, clock, out, monkeypatch):
    monkeypatch.delenv("WS_JWT_SECRET")
    monkeypatch.setenv("WS_JWT_SECRET_ARN", f"arn:aws:secretsmanager:{h.REGION}:{h.ACCOUNT}:secret:gone")
    outcome = probe.run(
        settings(), agent_id=AGENT, open_ws=lambda url, timeout: pytest.fail("must not connect")
    )
    reason = "secret_unavailable:ResourceNotFoundException"
    assert (outcome.ok, outcome.step, outcome.reason) == (False, "connect", reason)


def test_no_public_url_is_step_connect(queues, clock):
    outcome = probe.run(
        settings(), agent_id=AGENT, open_ws=lambda url, timeout: pytest.fail("must not connect")
    )
    assert (outcome.ok, outcome.step, outcome.reason) == (False, "connect", "not_configured")


@pytest.mark.parametrize(
    ("error", "reason"),
    [(TimeoutError(), "TimeoutError"), (ConnectionRefusedError(), "ConnectionRefusedError")],
)
def test_a_gateway_that_does_not_answer_is_step_connect(probe_env, clock, error, reason):
    def refuse(url: str, timeout: float) -> Any:
        raise error

    outcome = probe.run(settings(), agent_id=AGENT, open_ws=refuse)
    assert (outcome.ok, outcome.step, outcome.reason) == (False, "connect", reason)


def test_a_failed_send_is_step_send(gateway, clock, out):
    sqs = boto3.client("sqs", region_name=h.REGION)
    stub = Stubber(sqs)
    stub.add_client_error("send_message", service_error_code="KMS.AccessDeniedException")
    stub.activate()
    aws.override("sqs", sqs)
    outcome = probe.run(settings(), agent_id=AGENT, open_ws=gateway.open)
    assert (outcome.ok, outcome.step, outcome.reason) == (False, "send", "KMS.AccessDeniedException")


def test_a_job_never_pushed_is_step_deliver(gateway, clock, monkeypatch):
    # GIVEN a dispatcher that takes nothing (its event source disabled)
    gateway.dispatcher = False
    monkeypatch.setenv("PROBE_DELIVER_SECONDS", "1")
    outcome = probe.run(settings(), agent_id=AGENT, open_ws=gateway.open)
    assert (outcome.ok, outcome.step, outcome.reason) == (False, "deliver", "timeout")
    # AND the job waits in JobsQueue under the producers' contract
    (queued,) = h.queued_jobs(gateway.queue_url)
    assert (queued["creatorId"], queued["agentId"], queued["kind"], queued["critical"]) == (
        PROBE_CREATOR,
        AGENT,
        "probe",
        False,
    )


def test_a_result_never_acknowledged_is_step_complete(gateway, clock):
    gateway.acks = False  # ws-message never answers
    outcome = probe.run(settings(), agent_id=AGENT, open_ws=gateway.open)
    assert (outcome.ok, outcome.step, outcome.reason) == (False, "complete", "timeout")
    assert [f["action"] for f in gateway.sent] == ["job.result"]


def test_an_error_frame_names_the_complete_failure(probe_env, clock):
    class Refusing:
        def __init__(self) -> None:
            self.frames: list[str] = []

        def __enter__(self) -> Refusing:
            return self

        def __exit__(self, *exc: object) -> None:
            pass

        def send(self, data: str) -> None:
            self.frames.append(json.dumps({"type": "error", "code": "job_not_assigned", "message": "-"}))

        def recv(self, timeout: float | None = None) -> str:
            if self.frames:
                return self.frames.pop(0)
            with as_nobody():
                sent = h.queued_jobs(probe_env["JOBS_QUEUE_URL"])
            if sent:
                return json.dumps({"type": "job.assign", "jobId": sent[0]["jobId"]})
            raise TimeoutError

    outcome = probe.run(settings(), agent_id=AGENT, open_ws=lambda url, timeout: Refusing())
    assert (outcome.ok, outcome.step, outcome.reason) == (False, "complete", "error_job_not_assigned")


def test_a_job_of_an_earlier_run_is_completed_too(gateway, clock, out):
    # GIVEN a probe job held while the probe was away (an earlier run timed out)
    h.put_job("probe-old", "held", AGENT, PROBE_CREATOR)
    # WHEN the probe connects (which releases it) and runs
    outcome = probe.run(settings(), agent_id=AGENT, open_ws=gateway.open)
    # THEN it completes both its own job and the old one
    assert (outcome.ok, outcome.other_jobs) == (True, 1)
    assert h.job("probe-old")["status"] == "completed"


def test_every_wait_stops_before_the_function_times_out(gateway, clock):
    # GIVEN an invocation with 1 s left (under the 2 s margin)
    outcome = probe.run(settings(), agent_id=AGENT, open_ws=gateway.open, time_left=lambda: 1.0)
    assert (outcome.ok, outcome.step, outcome.reason) == (False, "connect", "out_of_time")


def test_the_deliver_wait_is_cut_to_the_time_left(gateway, clock, monkeypatch):
    gateway.dispatcher = False
    left = iter([30.0, 2.5, 2.5])  # connect, then deliver gets 0.5 s, not PROBE_DELIVER_SECONDS
    outcome = probe.run(settings(), agent_id=AGENT, open_ws=gateway.open, time_left=lambda: next(left))
    assert (outcome.ok, outcome.step) == (False, "deliver")


def test_each_scheduled_minute_has_its_agent_so_overlapping_runs_never_share_one():
    minutes = [probe.scheduled_minute({"time": f"2026-12-07T12:0{m}:00Z"}, now=0) for m in range(6)]
    assert [probe_agent(m) for m in minutes] == [probe_agent(minutes[0] + i) for i in range(6)]
    assert len({probe_agent(m) for m in minutes}) == 5  # five agents, reused every five minutes
    assert (
        probe.scheduled_minute({}, now=NOW) == probe.scheduled_minute({"time": "junk"}, now=NOW) == NOW // 60
    )


def test_the_handler_runs_as_the_agent_of_its_scheduled_minute(gateway, clock, out):
    summary = probe_handler({"time": "2026-11-28T13:31:00Z"}, None)
    assert summary["ok"] is True
    assert h.agent(probe_agent(NOW // 60 + 1), PROBE_CREATOR) is not None
    assert h.agent(AGENT, PROBE_CREATOR) is None
