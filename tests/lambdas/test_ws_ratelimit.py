"""ws-message's per-connection frame limit: both sides of it, its window, and its DynamoDB cost."""

from __future__ import annotations

import pytest

from lambdas.common import aws, ratelimit
from lambdas.common.settings import DEFAULT_FRAMES_PER_MINUTE
from lambdas.ws_message.handler import handler as message
from tests.lambdas import helpers as h
from tests.lambdas.conftest import NOW

HEARTBEAT = {"action": "heartbeat"}
WINDOW_START = NOW - NOW % 60  # NOW is 13:30:00, a window boundary


def reply_codes(connection_id: str = "conn-1") -> list[str]:
    return [f.get("code") or f["type"] for f in h.frames(connection_id)]


@pytest.fixture
def calls(queues):
    """DynamoDB operations made by the handlers, in order."""
    made: list[str] = []
    aws.client("dynamodb").meta.events.register(
        "before-call.dynamodb", lambda model, **_: made.append(model.name)
    )
    return made


def test_the_limit_admits_exactly_its_frames_then_answers_rate_limited(online, clock, out, monkeypatch):
    monkeypatch.setenv("FRAMES_PER_MINUTE", "3")
    clock.set(WINDOW_START + 10)
    for _ in range(5):
        assert message(h.message_event(HEARTBEAT, "conn-1"), None) == {"statusCode": 200}
    assert reply_codes() == ["ack", "ack", "ack", "rate_limited", "rate_limited"]
    assert h.frames("conn-1")[-1] == {
        "type": "error",
        "code": "rate_limited",
        "message": "over 3 frames a minute on this connection; retry in 50 s",
    }
    assert "ws_message_rejected code=rate_limited" in out.messages()


def test_junk_frames_count_too_and_a_new_minute_opens_a_new_allowance(online, clock, out, monkeypatch):
    monkeypatch.setenv("FRAMES_PER_MINUTE", "2")
    clock.set(WINDOW_START + 59)
    for body in ("{junk", "[" * 30_000, HEARTBEAT):
        message(h.message_event(body, "conn-1"), None)
    clock.set(WINDOW_START + 60)  # the next minute
    message(h.message_event(HEARTBEAT, "conn-1"), None)
    assert reply_codes() == ["json_invalid", "json_invalid", "rate_limited", "ack"]
    assert (h.conn("conn-1")["frameWindow"], h.conn("conn-1")["frameCount"]) == ((WINDOW_START + 60) // 60, 1)


def test_the_limit_is_per_connection(online, clock, out, monkeypatch):
    from lambdas.ws_connect.handler import handler as connect

    monkeypatch.setenv("FRAMES_PER_MINUTE", "1")
    assert connect(h.connect_event(h.token("agent-2", "creator-1"), "conn-2"), None) == {"statusCode": 200}
    for connection_id in ("conn-1", "conn-1", "conn-2"):
        message(h.message_event(HEARTBEAT, connection_id), None)
    assert (reply_codes("conn-1"), reply_codes("conn-2")) == (["ack", "rate_limited"], ["ack"])


def test_the_real_limit_600_a_minute_on_both_sides(online, clock):
    for _ in range(DEFAULT_FRAMES_PER_MINUTE):
        assert ratelimit.admit("conn-1", NOW)["agentId"] == "agent-1"
    with pytest.raises(Exception) as err:
        ratelimit.admit("conn-1", NOW + 59)
    assert (type(err.value).__name__, err.value.code) == ("FrameError", "rate_limited")
    assert ratelimit.admit("conn-1", NOW + 60)["frameCount"] == 1


def test_an_unknown_connection_writes_nothing_and_is_not_connected(queues, clock, out):
    assert ratelimit.admit("conn-ghost", NOW) is None
    assert h.conn("conn-ghost") is None
    message(h.message_event(HEARTBEAT, "conn-ghost"), None)
    assert reply_codes("conn-ghost") == ["not_connected"]


def test_dynamodb_calls_per_frame(online, clock, calls, monkeypatch):
    # The first frame of a minute: the failed count write, then the window reset (2 writes).
    ratelimit.admit("conn-1", NOW)
    assert calls == ["UpdateItem", "UpdateItem"]
    # Every further frame of that minute: one write.
    calls.clear()
    ratelimit.admit("conn-1", NOW + 1)
    assert calls == ["UpdateItem"]
    # A rejected frame: one (failed) write, nothing else.
    monkeypatch.setenv("FRAMES_PER_MINUTE", "2")
    calls.clear()
    with pytest.raises(Exception, match="over 2 frames"):
        ratelimit.admit("conn-1", NOW + 2)
    assert calls == ["UpdateItem"]


@pytest.mark.parametrize(
    ("raw", "limit"), [(None, 600), ("5", 5), ("1", 1), ("0", 600), ("-3", 600), ("x", 600)]
)
def test_frames_per_minute_setting_falls_back_to_600(raw, limit):
    from lambdas.common.settings import Settings

    env = {} if raw is None else {"FRAMES_PER_MINUTE": raw}
    assert Settings.from_env(env).frames_per_minute == limit
