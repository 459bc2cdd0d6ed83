"""Rotating the agents' key: the four rotation steps, and ws-connect through a rotation."""

from __future__ import annotations

import time
import uuid

import boto3
import pytest
import time_machine

from automation.scripts.revoke_tokens import KEYS_CACHE_SECONDS, ROTATION_POLL_SECONDS, emergency_rotation
from lambdas.common import keys
from lambdas.common.auth import mint_token
from lambdas.common.rotation import RotationError, rotate
from lambdas.secret_rotation.handler import handler as rotation_handler
from lambdas.ws_connect.handler import handler as connect
from tests.lambdas import helpers as h
from tests.lambdas.conftest import as_function

OK, UNAUTHORIZED = {"statusCode": 200}, {"statusCode": 401}


@pytest.fixture
def secret(queues, monkeypatch):
    """The key lives only in Secrets Manager (as deployed); returns its ARN."""
    sm = boto3.client("secretsmanager", region_name=h.REGION)
    arn = sm.create_secret(Name="byoip/test/ws-jwt", SecretString=h.SECRET)["ARN"]
    monkeypatch.delenv("WS_JWT_SECRET")
    monkeypatch.setenv("WS_JWT_SECRET_ARN", arn)
    return arn


def _rotate(arn: str) -> str:
    """A full rotation as Secrets Manager drives it: a pending version, then the four steps."""
    token = str(uuid.uuid4())
    sm = boto3.client("secretsmanager", region_name=h.REGION)
    with as_function("secret-rotation"):  # the steps' calls are the rotation function's
        for step in ("createSecret", "setSecret", "testSecret", "finishSecret"):
            if step == "createSecret":
                # Secrets Manager itself adds the AWSPENDING label to the new version id first.
                rotate(_PendingOnCreate(sm, token), arn, token, step)
            else:
                rotate(sm, arn, token, step)
    return sm.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")["SecretString"]


class _PendingOnCreate:
    """Secrets Manager's view at createSecret: the new version id is already AWSPENDING."""

    def __init__(self, client, token):
        self._client, self._token = client, token

    def describe_secret(self, **kwargs):
        found = self._client.describe_secret(**kwargs)
        found.setdefault("VersionIdsToStages", {})[self._token] = ["AWSPENDING"]
        return found

    def __getattr__(self, name):
        return getattr(self._client, name)


def _connect(tok: str, conn: str) -> dict:
    return connect(h.connect_event(tok, conn), None)


def test_a_rotation_makes_a_new_current_key_and_keeps_the_old_one_as_previous(secret):
    new = _rotate(secret)
    sm = boto3.client("secretsmanager", region_name=h.REGION)
    assert len(new) == 64 and new != h.SECRET
    assert sm.get_secret_value(SecretId=secret, VersionStage="AWSPREVIOUS")["SecretString"] == h.SECRET


def test_tokens_of_the_old_and_the_new_key_both_connect_through_a_rotation(secret, out, monkeypatch):
    # GIVEN a warm ws-connect (keys read) and an agent token signed just before the rotation
    old_token = mint_token(h.SECRET, "agent-1", "creator-1")
    assert _connect(old_token, "conn-1") == OK
    # WHEN the key rotates and a token is minted with the new key
    new = _rotate(secret)
    new_token = mint_token(new, "agent-2", "creator-1")
    # THEN, once the refresh interval has passed, both connect (the old one as AWSPREVIOUS)
    monkeypatch.setattr(keys, "REFRESH_AFTER_SECONDS", 0)
    assert _connect(new_token, "conn-2") == OK
    assert _connect(old_token, "conn-3") == OK


def test_an_unknown_kid_rereads_the_keys_at_most_every_refresh_interval(secret, out, monkeypatch):
    # GIVEN warm keys; count the reads
    assert _connect(mint_token(h.SECRET, "agent-1", "creator-1"), "conn-1") == OK
    sm = boto3.client("secretsmanager", region_name=h.REGION)
    reads = []
    real = sm.get_secret_value

    def counting(**kwargs):
        reads.append(kwargs.get("VersionStage"))
        return real(**kwargs)

    monkeypatch.setattr(sm, "get_secret_value", counting)
    from lambdas.common import aws

    aws.override("secretsmanager", sm)
    forged = mint_token("x" * 40, "agent-9", "creator-1")
    # WHEN tokens with unknown kids hammer ws-connect inside the refresh interval
    for n in range(5):
        assert _connect(forged, f"conn-f{n}") == UNAUTHORIZED
    # THEN the keys were not read again (a kid cannot make us call Secrets Manager per request)
    assert reads == []
    # AND past the interval one unknown kid triggers exactly one re-read of both stages
    monkeypatch.setattr(keys, "REFRESH_AFTER_SECONDS", 0)
    assert _connect(forged, "conn-g") == UNAUTHORIZED
    assert reads == ["AWSCURRENT", "AWSPREVIOUS"]


def test_a_key_two_rotations_old_is_refused(secret, out, monkeypatch):
    monkeypatch.setattr(keys, "REFRESH_AFTER_SECONDS", 0)
    monkeypatch.setattr(keys, "CACHE_SECONDS", 0)
    oldest = mint_token(h.SECRET, "agent-1", "creator-1")
    _rotate(secret)
    _rotate(secret)
    assert _connect(oldest, "conn-1") == UNAUTHORIZED
    assert out.messages() == ["ws_connect_rejected reason=token_invalid"]


def test_a_retried_create_step_keeps_the_pending_key(secret):
    sm = boto3.client("secretsmanager", region_name=h.REGION)
    token = str(uuid.uuid4())
    view = _PendingOnCreate(sm, token)
    assert rotate(view, secret, token, "createSecret") == "created"
    pending = sm.get_secret_value(SecretId=secret, VersionId=token)["SecretString"]
    assert rotate(view, secret, token, "createSecret") == "already_created"
    assert sm.get_secret_value(SecretId=secret, VersionId=token)["SecretString"] == pending


@pytest.mark.parametrize(
    ("token", "step", "message"),
    [
        ("not-a-version", "testSecret", "is not a version of the secret"),
        (None, "finishSecret", "is not pending rotation"),
        (None, "dropTable", "unknown rotation step"),
    ],
)
def test_bad_rotation_requests_are_refused(secret, token, step, message):
    sm = boto3.client("secretsmanager", region_name=h.REGION)
    version = token or next(
        v for v, s in sm.describe_secret(SecretId=secret)["VersionIdsToStages"].items() if "AWSCURRENT" in s
    )
    if token is None and step == "finishSecret":
        # a version that exists but is neither current nor pending: the previous one
        _rotate(secret)
        version = next(
            v
            for v, s in sm.describe_secret(SecretId=secret)["VersionIdsToStages"].items()
            if "AWSPREVIOUS" in s
        )
    with pytest.raises(RotationError, match=message):
        rotate(sm, secret, version, step)


def test_the_current_version_is_left_alone_and_the_handler_logs_the_step(secret, out):
    sm = boto3.client("secretsmanager", region_name=h.REGION)
    current = next(
        v for v, s in sm.describe_secret(SecretId=secret)["VersionIdsToStages"].items() if "AWSCURRENT" in s
    )
    rotation_handler({"SecretId": secret, "ClientRequestToken": current, "Step": "finishSecret"}, None)
    assert sm.get_secret_value(SecretId=secret)["SecretString"] == h.SECRET
    assert out.messages() == ["secret_rotation step=finishSecret outcome=already_current"]


def test_attack_leaked_previous_key_connects_only_within_the_window(secret, out, monkeypatch):
    # GIVEN keys re-read at every connect, and a rotation at `start`: the old key is AWSPREVIOUS
    monkeypatch.setattr(keys, "REFRESH_AFTER_SECONDS", 0)
    monkeypatch.setattr(keys, "CACHE_SECONDS", 0)
    start = int(time.time())
    with time_machine.travel(start, tick=False) as traveller:
        _rotate(secret)
        window = keys.PREVIOUS_KEY_WINDOW_SECONDS
        # WHEN a token minted with the old (leaked) key connects a second before the window closes
        traveller.move_to(start + window - 1)
        assert _connect(mint_token(h.SECRET, "agent-1", "creator-1", now=start + window - 1), "conn-1") == OK
        # THEN it connects; and from the window's end on, a fresh token of the old key is refused
        traveller.move_to(start + window)
        assert (
            _connect(mint_token(h.SECRET, "agent-1", "creator-1", now=start + window), "conn-2")
            == UNAUTHORIZED
        )
    assert out.messages()[-1] == "ws_connect_rejected reason=token_invalid"


class _SecretsManager:
    """The secretsmanager client as an emergency rotation sees it: RotateSecret runs the stack's
    rotation function (the four steps, as the service drives them) and returns the new version."""

    def __init__(self) -> None:
        self._client = boto3.client("secretsmanager", region_name=h.REGION)

    def rotate_secret(self, *, SecretId: str, RotateImmediately: bool) -> dict:  # noqa: N803
        assert RotateImmediately
        _rotate(SecretId)
        return {"VersionId": _current_version(SecretId)}

    def __getattr__(self, name):
        return getattr(self._client, name)


class _Closer:
    """The management API, recording which connections were closed."""

    def __init__(self) -> None:
        self._api = boto3.client(
            "apigatewaymanagementapi", endpoint_url=h.ENV["WS_ENDPOINT"], region_name=h.REGION
        )
        self.exceptions = self._api.exceptions
        self.closed: list[str] = []

    def delete_connection(self, *, ConnectionId: str) -> dict:  # noqa: N803
        self.closed.append(ConnectionId)
        return self._api.delete_connection(ConnectionId=ConnectionId)


def _current_version(arn: str) -> str:
    sm = boto3.client("secretsmanager", region_name=h.REGION)
    stages = sm.describe_secret(SecretId=arn)["VersionIdsToStages"]
    return next(v for v, s in stages.items() if "AWSCURRENT" in s)


def test_attack_emergency_rotation_retires_the_leaked_key_and_closes_its_connections(
    secret, out, monkeypatch
):
    # GIVEN the current key leaked: an attacker's connection and an agent's, both on tokens it signed
    assert _connect(mint_token(h.SECRET, "agent-1", "creator-1"), "conn-attacker") == OK
    assert _connect(mint_token(h.SECRET, "agent-2", "creator-2"), "conn-agent") == OK
    old = _current_version(secret)
    waited = []

    def settle(seconds):
        # a warm ws-connect still holds the leaked key while the script waits out its cache
        waited.append(seconds)
        assert _connect(mint_token(h.SECRET, "agent-1", "creator-1"), "conn-late") == OK

    # WHEN on-call runs the emergency rotation
    closer = _Closer()
    summary = emergency_rotation(
        _SecretsManager(), h.ddb(), closer, secret_id=secret, agents_table=h.ENV["AGENTS_TABLE"], sleep=settle
    )
    # THEN the leaked key is no longer AWSPREVIOUS (nor any stage), and once ws-connect's cache
    # (the minute the script waited) is over, a token it signs is refused
    assert waited == [KEYS_CACHE_SECONDS] and keys.CACHE_SECONDS == KEYS_CACHE_SECONDS
    sm = boto3.client("secretsmanager", region_name=h.REGION)
    assert sm.describe_secret(SecretId=secret)["VersionIdsToStages"].get(old) in (None, [])
    monkeypatch.setattr(keys, "CACHE_SECONDS", 0)
    monkeypatch.setattr(keys, "REFRESH_AFTER_SECONDS", 0)
    assert _connect(mint_token(h.SECRET, "agent-1", "creator-1"), "conn-again") == UNAUTHORIZED
    # AND every connection its tokens opened, before or during the wait, was closed and marked revoked
    assert summary == {"retiredVersion": old, "currentVersion": _current_version(secret), "closed": 3}
    assert sorted(closer.closed) == ["conn-agent", "conn-attacker", "conn-late"]
    assert h.conn("conn-agent")["revoked"] is True and h.conn("conn-late")["revoked"] is True
    assert h.conn("conn-attacker") is None  # superseded by conn-late (same agent): forgotten
    # AND a token of the new key connects and records the new key's id
    new = sm.get_secret_value(SecretId=secret, VersionStage="AWSCURRENT")["SecretString"]
    assert _connect(mint_token(new, "agent-2", "creator-2"), "conn-new") == OK
    assert h.conn("conn-new")["tokenKid"] == keys.key_id(new)


def test_an_emergency_rotation_that_does_not_finish_retires_nothing(secret):
    sm = _SecretsManager()
    sm.rotate_secret = lambda **kwargs: {"VersionId": "never-current"}
    ticks = iter(range(0, 10_000, ROTATION_POLL_SECONDS))
    with pytest.raises(
        RuntimeError, match="did not finish within 300 s: .* the previous key was not retired"
    ):
        emergency_rotation(
            sm,
            h.ddb(),
            _Closer(),
            secret_id=secret,
            agents_table=h.ENV["AGENTS_TABLE"],
            sleep=lambda s: None,
            now=lambda: next(ticks),
        )
