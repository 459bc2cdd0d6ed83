"""ws-message's per-connection frame limit: both sides, its window, its bound across containers, its cost."""

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
    # the full minute was written; the new minute's first frame is still counted in memory only
    assert (h.conn("conn-1")["frameWindow"], h.conn("conn-1")["frameCount"]) == (WINDOW_START // 60, 2)
    assert ratelimit.LOCAL.get("conn-1", (WINDOW_START + 60) // 60) == 1


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
    assert h.conn("conn-1")["frameCount"] == DEFAULT_FRAMES_PER_MINUTE  # past half: written frame by frame
    with pytest.raises(Exception) as err:
        ratelimit.admit("conn-1", NOW + 59)
    assert (type(err.value).__name__, err.value.code) == ("FrameError", "rate_limited")
    assert ratelimit.admit("conn-1", NOW + 60)["agentId"] == "agent-1"
    assert ratelimit.LOCAL.get("conn-1", (NOW + 60) // 60) == 1


def _flood(container: ratelimit.LocalCounts, frames: int) -> int:
    """Frames of conn-1 one container admits out of `frames` (the rest answered rate_limited)."""
    admitted = 0
    for _ in range(frames):
        try:
            ratelimit.admit("conn-1", NOW, local=container)
            admitted += 1
        except Exception as err:
            assert err.code == "rate_limited"
    return admitted


def test_across_containers_a_connection_gets_at_most_the_unwritten_frames_more(online, clock):
    # GIVEN two warm containers serving one connection; B holds FLUSH_EVERY - 1 frames unwritten
    a, b = ratelimit.LocalCounts(), ratelimit.LocalCounts()
    assert _flood(b, ratelimit.FLUSH_EVERY - 1) == 4
    # WHEN the connection floods A, then B again
    flood_a = _flood(a, 700)
    flood_b = _flood(b, 10)
    # THEN A admits the limit (it cannot see B's 4), B nothing more: 600 + 4, the worst case for two
    assert (flood_a, flood_b, h.conn("conn-1")["frameCount"]) == (DEFAULT_FRAMES_PER_MINUTE, 0, 600)


def test_alternating_containers_are_held_to_the_exact_limit(online, clock):
    # Past half the limit every frame is written, so containers see each other's frames.
    a, b = ratelimit.LocalCounts(), ratelimit.LocalCounts()
    admitted = sum(_flood(a if n % 2 else b, 1) for n in range(700))
    assert (admitted, h.conn("conn-1")["frameCount"]) == (DEFAULT_FRAMES_PER_MINUTE, 600)


def test_dynamodb_calls_per_frame(online, clock, calls, monkeypatch):
    # Frames 1-4 of a minute: one eventually consistent read each, nothing written.
    for second in range(4):
        ratelimit.admit("conn-1", NOW + second)
    assert calls == ["GetItem"] * 4
    assert "frameCount" not in h.conn("conn-1")
    # The 5th (FLUSH_EVERY): the read, then one write opening the window with the 5 frames.
    calls.clear()
    ratelimit.admit("conn-1", NOW + 4)
    assert calls == ["GetItem", "UpdateItem"]
    assert (h.conn("conn-1")["frameWindow"], h.conn("conn-1")["frameCount"]) == (NOW // 60, 5)
    # The next 5: one write for all of them.
    calls.clear()
    for second in range(5, 10):
        ratelimit.admit("conn-1", NOW + second)
    assert calls == ["GetItem"] * 5 + ["UpdateItem"]
    assert h.conn("conn-1")["frameCount"] == 10
    # A rejected frame: the read, nothing else.
    monkeypatch.setenv("FRAMES_PER_MINUTE", "10")
    calls.clear()
    with pytest.raises(Exception, match="over 10 frames"):
        ratelimit.admit("conn-1", NOW + 10)
    assert calls == ["GetItem"]


def test_a_connection_not_yet_visible_to_an_eventual_read_is_read_again_strongly(online, clock, monkeypatch):
    from lambdas.common import ddb

    reads: list[bool] = []
    real = ddb.get

    def stale_first(table, attr, value, *, consistent=True):
        reads.append(consistent)
        return None if not consistent else real(table, attr, value)

    monkeypatch.setattr(ddb, "get", stale_first)
    assert ratelimit.admit("conn-1", NOW)["agentId"] == "agent-1"
    assert reads == [False, True]


@pytest.mark.parametrize(
    ("raw", "limit"), [(None, 600), ("5", 5), ("1", 1), ("0", 600), ("-3", 600), ("x", 600)]
)
def test_frames_per_minute_setting_falls_back_to_600(raw, limit):
    from lambdas.common.settings import Settings

    env = {} if raw is None else {"FRAMES_PER_MINUTE": raw}
    assert Settings.from_env(env).frames_per_minute == limit


def test_a_stale_read_at_a_window_boundary_still_adds_to_the_opened_window(online, clock, monkeypatch):
    # GIVEN another container opened this minute with 5 frames, and this one holds 4 unwritten
    for second in range(5):
        ratelimit.admit("conn-1", NOW + second)
    stale = {**h.conn("conn-1"), "frameWindow": NOW // 60 - 1}  # a read from before that write
    monkeypatch.setattr(ratelimit, "_read", lambda connection_id: stale)
    container = ratelimit.LocalCounts()
    container.set("conn-1", NOW // 60, 4)
    # WHEN its 5th frame flushes: opening the window fails, adding to it succeeds
    ratelimit.admit("conn-1", NOW + 5, local=container)
    # THEN both containers' frames are counted once
    assert (h.conn("conn-1")["frameWindow"], h.conn("conn-1")["frameCount"]) == (NOW // 60, 10)
