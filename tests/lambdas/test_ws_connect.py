"""ws-connect: token verification (hostile tokens → 401), connection records, held-job release."""

from __future__ import annotations

import json
import time

import boto3
import jwt
import pytest
from botocore.stub import ANY, Stubber
from moto.sqs import models as sqs_models

from lambdas.common import aws
from lambdas.common.keys import key_id
from lambdas.common.metrics import CONNECT_OUTCOMES
from lambdas.ws_connect.handler import handler as connect
from sandbox.iam import recorder
from tests.lambdas import helpers as h


def _now() -> int:
    """Wall-clock seconds when a token is built (never at import: a slow run would expire them)."""
    return int(time.time())


OUR_KID = key_id(h.SECRET)


def _unsigned(claims: dict[str, object]) -> str:
    header = {"alg": "none", "typ": "JWT", "kid": OUR_KID}
    header = jwt.utils.base64url_encode(json.dumps(header).encode()).decode()
    body = jwt.utils.base64url_encode(json.dumps(claims).encode()).decode()
    return f"{header}.{body}."


def _tampered() -> str:
    header, _, signature = h.token().split(".")
    forged = {"agentId": "agent-evil", "creatorId": "creator-1", "iat": _now(), "exp": _now() + 600}
    body = jwt.utils.base64url_encode(json.dumps(forged).encode()).decode()
    return f"{header}.{body}.{signature}"


HOSTILE = {
    "alg_none": lambda: _unsigned({"agentId": "a", "creatorId": "c", "iat": _now(), "exp": _now() + 60}),
    "hs512": lambda: h.token(algorithm="HS512"),
    "rs256": lambda: jwt.encode(
        {"agentId": "a", "creatorId": "c", "iat": _now(), "exp": _now() + 60},
        _rsa_key(),
        algorithm="RS256",
        headers={"kid": OUR_KID},
    ),
    "wrong_key": lambda: h.token(key="another-key-of-enough-length-0123456789", kid=OUR_KID),
    "unknown_kid": lambda: h.token(key="another-key-of-enough-length-0123456789"),
    "missing_kid": lambda: h.token(kid=""),
    "expired": lambda: h.token(iat=_now() - 1200, lifetime=600),
    "missing_agentId": lambda: h.token(drop=("agentId",)),
    "missing_creatorId": lambda: h.token(drop=("creatorId",)),
    "missing_exp": lambda: h.token(drop=("exp",)),
    "missing_iat": lambda: h.token(drop=("iat",)),
    "lifetime_over_15_min": lambda: h.token(lifetime=901),
    "tampered_payload": _tampered,
    "not_a_jwt": lambda: "not.a.jwt",
    "agent_id_with_slash": lambda: h.token(agent="../creator-2"),
}


# Why each hostile token must be refused: a token refused for another reason (its expiry on a
# slow run, say) would pass the 401 test below without testing what its name says.
REFUSED_FOR = {
    "agent_id_with_slash": "agentId is not an id",
    "alg_none": "InvalidAlgorithmError",
    "expired": "ExpiredSignatureError",
    "hs512": "InvalidAlgorithmError",
    "lifetime_over_15_min": "lifetime over 15 minutes",
    "missing_agentId": "MissingRequiredClaimError",
    "missing_creatorId": "MissingRequiredClaimError",
    "missing_exp": "MissingRequiredClaimError",
    "missing_iat": "MissingRequiredClaimError",
    "not_a_jwt": "DecodeError",
    "rs256": "InvalidAlgorithmError",
    "tampered_payload": "InvalidSignatureError",
    "wrong_key": "InvalidSignatureError",
    "unknown_kid": "unknown kid",
    "missing_kid": "no kid",
}


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_each_hostile_token_is_refused_for_what_it_tests(kind):
    from lambdas.common.auth import TokenRejected, key_for, verify_token
    from lambdas.common.settings import Settings

    config = Settings.from_env({"WS_JWT_SECRET": h.SECRET})
    tok = HOSTILE[kind]()
    with pytest.raises(TokenRejected) as refused:
        verify_token(tok, key_for(tok, config))
    assert str(refused.value) == REFUSED_FOR[kind]


def _outcomes(out) -> list[dict[str, int]]:
    """The `$connect` outcome counts of each EMF line (Huntaze/ByoIP)."""
    names = set(CONNECT_OUTCOMES.values())
    return [{k: v for k, v in doc.items() if k in names} for doc in out.emf()]


def _rsa_key() -> object:
    from cryptography.hazmat.primitives.asymmetric import rsa

    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_token_is_rejected_with_bare_401_and_never_logged(kind, out):
    # GIVEN a hostile token
    tok = HOSTILE[kind]()
    # WHEN an agent connects with it
    response = connect(h.connect_event(tok, "conn-hostile"), None)
    # THEN 401 with no body, nothing recorded, and the token appears in no log line
    assert response == {"statusCode": 401}
    assert h.conn("conn-hostile") is None
    assert tok not in out.raw()
    assert out.messages() == ["ws_connect_rejected reason=token_invalid"]


def test_missing_token_is_rejected(out):
    assert connect(h.connect_event(None, "conn-x"), None) == {"statusCode": 401}
    assert h.conn("conn-x") is None


@pytest.mark.parametrize("secret", ["", "short-key"])
def test_empty_or_short_secret_answers_503_never_trusting_the_token(secret, monkeypatch, out):
    # GIVEN a misconfigured key (empty, or under HS256's 32-byte minimum)
    monkeypatch.setenv("WS_JWT_SECRET", secret)
    tok = h.token(key=secret or "x") if secret else h.token()
    # WHEN a token signed with that very key arrives
    response = connect(h.connect_event(tok, "conn-m"), None)
    # THEN it is refused (never trusted raw) with a 503, the platform's failure: the agent retries
    assert response == {"statusCode": 503}
    assert h.conn("conn-m") is None
    assert out.messages() == ["ws_connect_failed reason=secret_unavailable"]
    assert tok not in out.raw()
    assert _outcomes(out) == [{"ConnectSecretUnavailable": 1}]


def test_valid_token_records_agent_and_connection(out):
    # GIVEN a valid 10-minute token
    tok = h.token("agent-1", "creator-1")
    # WHEN the agent connects
    response = connect(h.connect_event(tok, "conn-1"), None)
    # THEN 200, the connection item resolves to the agent and the agent points at it
    assert response == {"statusCode": 200}
    connection = h.conn("conn-1")
    assert connection["agentId"] == "agent-1" and connection["creatorId"] == "creator-1"
    assert connection["ttl"] == connection["connectedAt"] + 7200
    agent = h.agent("agent-1")
    assert (agent["connectionId"], agent["creatorId"]) == ("conn-1", "creator-1")
    assert tok not in out.raw()


def test_key_from_secrets_manager_is_used_when_no_raw_key(monkeypatch, out):
    # GIVEN the key only in Secrets Manager
    arn = boto3.client("secretsmanager", region_name=h.REGION).create_secret(
        Name="byoip/test/ws-jwt", SecretString=h.SECRET
    )["ARN"]
    monkeypatch.delenv("WS_JWT_SECRET")
    monkeypatch.setenv("WS_JWT_SECRET_ARN", arn)
    # WHEN an agent connects
    # THEN the token verifies against it
    assert connect(h.connect_event(h.token(), "conn-sm"), None) == {"statusCode": 200}


def test_reconnect_releases_held_jobs_back_to_the_queue(queues, out):
    # GIVEN two jobs held for agent-1 and one for another agent
    for job_id, agent in (("j1", "agent-1"), ("j2", "agent-1"), ("j3", "agent-2")):
        h.put_job(job_id, "held", agent)
    # WHEN agent-1 connects
    connect(h.connect_event(h.token("agent-1"), "conn-1"), None)
    # THEN its two jobs are back on the queue (same attempt) and no longer held
    bodies = h.queued_jobs(queues["JOBS_QUEUE_URL"])
    assert [(b["jobId"], b["agentId"], b["attempt"], b["payload"]) for b in bodies] == [
        ("j1", "agent-1", 1, {"postId": "p"}),
        ("j2", "agent-1", 1, {"postId": "p"}),
    ]
    assert (h.job("j1")["status"], "heldAgentId" in h.job("j1")) == ("queued", False)
    assert h.job("j3")["status"] == "held"
    assert "agent_connected agentId=agent-1 released=2" in out.messages()


def test_released_jobs_are_delayed_until_the_connection_is_open(queues, monkeypatch, out):
    # GIVEN the default release delay and two jobs held for agent-1, and SQS's message clock
    # stopped, so the delay cannot run out on a loaded machine before the queue is read
    monkeypatch.delenv("RELEASE_DELAY_SECONDS")
    monkeypatch.setattr(sqs_models, "unix_time_millis", lambda dt=None: 1_800_000_000_000.0)
    for job_id in ("j1", "j2"):
        h.put_job(job_id, "held")
    # WHEN agent-1 connects
    assert connect(h.connect_event(h.token("agent-1"), "conn-1"), None) == {"statusCode": 200}
    # THEN both messages are on the queue but delayed: nothing reaches the dispatcher while
    # $connect is still running (API Gateway would answer its push with 410)
    url = queues["JOBS_QUEUE_URL"]
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesDelayed"]
    attrs = boto3.client("sqs", region_name=h.REGION).get_queue_attributes(QueueUrl=url, AttributeNames=names)
    assert attrs["Attributes"] == {
        "ApproximateNumberOfMessages": "0",
        "ApproximateNumberOfMessagesDelayed": "2",
    }
    assert h.drain(url) == []
    assert "agent_connected agentId=agent-1 released=2" in out.messages()


def test_released_jobs_carry_the_configured_delay(queues, monkeypatch, out):
    # GIVEN RELEASE_DELAY_SECONDS=5 and a held job
    monkeypatch.setenv("RELEASE_DELAY_SECONDS", "5")
    h.put_job("j1", "held")
    sqs = boto3.client("sqs", region_name=h.REGION)
    stub = Stubber(sqs)
    stub.add_response(
        "send_message_batch",
        {"Successful": [{"Id": "0", "MessageId": "m-1", "MD5OfMessageBody": "x"}], "Failed": []},
        {
            "QueueUrl": queues["JOBS_QUEUE_URL"],
            "Entries": [{"Id": "0", "MessageBody": ANY, "DelaySeconds": 5}],
        },
    )
    stub.activate()
    aws.override("sqs", sqs)
    # WHEN agent-1 connects
    assert connect(h.connect_event(h.token("agent-1"), "conn-1"), None) == {"statusCode": 200}
    # THEN the release asked SQS for exactly that delay
    stub.assert_no_pending_responses()
    assert h.job("j1")["status"] == "queued"


def test_reconnect_never_clears_a_pause_and_keeps_jobs_parked(queues, out):
    # GIVEN a creator paused by its agent, with a job held
    h.put_limits("creator-1", paused=True, pausedBy="agent:agent-1", pauseReason="site pushed back")
    h.put_job("j1", "held")
    # WHEN the agent reconnects
    assert connect(h.connect_event(h.token("agent-1"), "conn-2"), None) == {"statusCode": 200}
    # THEN the pause is untouched and the job stays held
    limits = h.creator_limits("creator-1")
    assert (limits["paused"], limits["pausedBy"]) == (True, "agent:agent-1")
    assert h.job("j1")["status"] == "held"
    assert h.drain(queues["JOBS_QUEUE_URL"]) == []


def test_unreadable_secret_is_a_503_counted_as_secret_unavailable(monkeypatch, out):
    # GIVEN the secret ARN points at nothing (deleted, or no permission)
    monkeypatch.delenv("WS_JWT_SECRET")
    arn = f"arn:aws:secretsmanager:{h.REGION}:{h.ACCOUNT}:secret:gone-AbCdEf"
    monkeypatch.setenv("WS_JWT_SECRET_ARN", arn)
    # WHEN a valid-looking token arrives
    tok = h.token()
    # THEN a 503 (the token may be fine: the agent retries) and the cause logged without the token
    # (the read targets, on purpose, a secret the template does not deploy: the IAM check lists it
    # instead of evaluating it)
    missing = f"arn:aws:secretsmanager:{h.REGION}:{h.ACCOUNT}:secret:gone"
    with recorder.outside_the_stack(missing, "the test's secret is deleted on purpose"):
        assert connect(h.connect_event(tok, "conn-s"), None) == {"statusCode": 503}
    assert out.messages() == ["ws_connect_failed reason=secret_unavailable"]
    assert tok not in out.raw()
    assert _outcomes(out) == [{"ConnectSecretUnavailable": 1}]
