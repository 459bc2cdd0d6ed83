"""The probe's reserved identity: only the probe's tokens name it, and its jobs count for no creator."""

from __future__ import annotations

import time

import jwt
import pytest

from lambdas.common import auth, breaker
from lambdas.common.batch import BatchRun
from lambdas.common.dispatch import ItemFailure
from lambdas.common.keys import key_id
from lambdas.common.reserved import PROBE_CLAIM, PROBE_CREATOR, probe_agent
from lambdas.dispatcher_sqs.handler import handler as dispatch
from lambdas.dispatcher_sqs.handler import logger
from lambdas.ws_connect.handler import handler as connect
from lambdas.ws_message.handler import handler as message
from tests.lambdas import helpers as h
from tests.lambdas.conftest import NOW, as_function

OK, UNAUTHORIZED = {"statusCode": 200}, {"statusCode": 401}
PROBE_AGENT = probe_agent(0)


def _signed(claims: dict[str, object]) -> str:
    issued = int(time.time())  # PyJWT checks exp against the wall clock
    full = {"iat": issued, "exp": issued + 300, **claims}
    return jwt.encode(full, h.SECRET, algorithm="HS256", headers={"kid": key_id(h.SECRET)})


def test_a_probe_token_connects(queues, clock, out):
    token = auth.mint_token(h.SECRET, PROBE_AGENT, PROBE_CREATOR, probe=True)
    assert connect(h.connect_event(token, "conn-p"), None) == OK


@pytest.mark.parametrize(
    "claims",
    [
        {"agentId": PROBE_AGENT, "creatorId": PROBE_CREATOR},  # an issuer's token: no probe claim
        {"agentId": PROBE_AGENT, "creatorId": PROBE_CREATOR, PROBE_CLAIM: "true"},  # not the boolean
        {"agentId": "agent-1", "creatorId": "creator-1", PROBE_CLAIM: True},  # the claim elsewhere
    ],
    ids=["probe-creator-without-claim", "claim-not-true", "claim-on-a-real-creator"],
)
def test_no_other_token_claims_the_probe_identity(queues, clock, out, claims):
    # WHEN a token signed with the real key names the reserved creator without the probe's claim,
    # or carries the claim for another creator
    assert connect(h.connect_event(_signed(claims), "conn-x"), None) == UNAUTHORIZED
    # THEN it is refused like any invalid token, and nothing is registered
    assert "ws_connect_rejected reason=token_invalid" in out.messages()
    assert h.conn("conn-x") is None


def test_verify_names_the_reason(queues):
    token = _signed({"agentId": PROBE_AGENT, "creatorId": PROBE_CREATOR})
    with pytest.raises(auth.TokenRejected) as rejected:
        auth.verify_token(token, h.SECRET)
    assert rejected.value.why == "reserved probe identity"


def _probe_online() -> None:
    token = auth.mint_token(h.SECRET, PROBE_AGENT, PROBE_CREATOR, probe=True)
    assert connect(h.connect_event(token, "conn-p"), None) == OK


def _probe_job(job_id: str) -> str:
    return h.job_body(job_id, PROBE_AGENT, PROBE_CREATOR, kind="probe")


def test_probe_jobs_skip_the_creators_limits_and_pause(queues, clock, out):
    # GIVEN a limits item for the probe's creator that would refuse any job (paused, quota spent)
    _probe_online()
    h.put_limits(PROBE_CREATOR, paused=True, dailyQuota=0, maxConcurrent=0)
    out.logs()
    # WHEN a probe job is dispatched
    assert dispatch(h.sqs_event(_probe_job("probe-a"), sent_at=NOW), None) == {"batchItemFailures": []}
    # THEN it is pushed, uncounted, and no counter moved on the item
    (pushed,) = h.frames("conn-p")
    assert pushed["jobId"] == "probe-a"
    assert h.job("probe-a")["limitsDay"] == "-"
    assert h.creator_limits(PROBE_CREATOR) == {
        "creatorId": PROBE_CREATOR,
        "paused": True,
        "dailyQuota": 0,
        "maxConcurrent": 0,
    }


def test_probe_jobs_move_no_dispatcher_or_job_counter(queues, clock, out):
    # GIVEN the probe offline: its job is held, and a second, critical one fails (retried)
    held, failing = _probe_job("probe-h"), h.job_body("probe-c", PROBE_AGENT, PROBE_CREATOR, critical=True)
    run = BatchRun(logger)
    # WHEN the dispatcher handles them beside one real job of a real (offline) creator
    with as_function("dispatcher-sqs"):
        outcome = run.handle(held, NOW * 1000)
        with pytest.raises(ItemFailure, match="agent_offline"):
            run.handle(failing, NOW * 1000)
        run.handle(h.job_body("job-1"), NOW * 1000)
    # THEN only the real job is counted
    assert outcome.kind == "held"
    counted = {
        name: run.counters.value(ns, name)
        for ns, name in (
            ("Huntaze/Dispatcher", "BatchItems"),
            ("Huntaze/Dispatcher", "BatchItemFailures"),
            ("Huntaze/Dispatcher", "AssignAttempts"),
            ("Huntaze/ByoIP", "JobsHeld"),
        )
    }
    assert counted == {"BatchItems": 1, "BatchItemFailures": 0, "AssignAttempts": 0, "JobsHeld": 1}


def test_probe_results_count_in_no_job_metric(queues, clock, out):
    _probe_online()
    dispatch(h.sqs_event(_probe_job("probe-r"), sent_at=NOW), None)
    before = len(out.emf())
    result = {"action": "job.result", "jobId": "probe-r", "status": "completed"}
    assert message(h.message_event(result, "conn-p"), None) == OK
    assert h.job("probe-r")["status"] == "completed"
    assert out.emf()[before:] == []  # ws-message counted nothing: no JobsCompleted


def test_the_breaker_never_records_a_probe_delivery(queues, clock):
    with as_function("dispatcher-sqs"):
        assert breaker.record(PROBE_CREATOR, "probe-f", ok=False, now=NOW) is False
        assert breaker.record("creator-1", "job-f", ok=False, now=NOW) is True
    assert h.item("AGENTS_TABLE", "pk", breaker.window_key(PROBE_CREATOR)["pk"]["S"]) is None
