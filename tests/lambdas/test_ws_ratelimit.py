"""ws-message's frame budget per agent: both sides, its window, its bound across containers, its cost."""

from __future__ import annotations

import pytest

from lambdas.common import aws, ratelimit
from lambdas.common.protocol import FrameError
from lambdas.common.settings import DEFAULT_FRAMES_PER_MINUTE
from lambdas.ws_message.handler import handler as message
from tests.lambdas import helpers as h
from tests.lambdas.conftest import NOW

HEARTBEAT = {"action": "heartbeat"}
WINDOW_START = NOW - NOW % 60  # NOW is 13:30:00, a window boundary
AGENT_PK = "agent#creator-1#agent-1"


def reply_codes(connection_id: str = "conn-1") -> list[str]:
    return [f.get("code") or f["type"] for f in h.frames(connection_id)]


def frames_counted(agent_id: str = "agent-1", creator_id: str = "creator-1") -> tuple[int, int]:
    item = h.agent(agent_id, creator_id) or {}
    return item.get("frameWindow"), item.get("frameCount")


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
        "message": "over 3 frames a minute for this agent; retry in 50 s",
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
    assert frames_counted() == (WINDOW_START // 60, 2)
    assert ratelimit.LOCAL.get("frame", AGENT_PK, (WINDOW_START + 60) // 60) == (0, 1)


def test_the_limit_is_per_agent_not_per_connection(online, clock, out, monkeypatch):
    from lambdas.ws_connect.handler import handler as connect

    monkeypatch.setenv("FRAMES_PER_MINUTE", "1")
    message(h.message_event(HEARTBEAT, "conn-1"), None)
    assert reply_codes("conn-1") == ["ack"]  # (read now: the agent's next connection supersedes this one)
    # the agent's next connection, and another agent of the same creator
    for tok, connection_id in ((h.token("agent-1", "creator-1"), "conn-1b"), (h.token("agent-2"), "conn-2")):
        assert connect(h.connect_event(tok, connection_id), None) == {"statusCode": 200}
        message(h.message_event(HEARTBEAT, connection_id), None)
    assert (reply_codes("conn-1b"), reply_codes("conn-2")) == (["rate_limited"], ["ack"])


def test_the_real_limit_600_a_minute_on_both_sides(online, clock):
    for _ in range(DEFAULT_FRAMES_PER_MINUTE):
        assert ratelimit.admit("conn-1", NOW)["agentId"] == "agent-1"
    assert frames_counted() == (NOW // 60, DEFAULT_FRAMES_PER_MINUTE)  # past half: written frame by frame
    with pytest.raises(Exception) as err:
        ratelimit.admit("conn-1", NOW + 59)
    assert isinstance(err.value, FrameError) and err.value.code == "rate_limited"
    assert ratelimit.admit("conn-1", NOW + 60)["agentId"] == "agent-1"
    assert ratelimit.LOCAL.get("frame", AGENT_PK, (NOW + 60) // 60) == (0, 1)


def _flood(container: ratelimit.LocalCounts, frames: int, connection_id: str = "conn-1") -> int:
    """Frames one container admits out of `frames` (the rest answered rate_limited)."""
    admitted = 0
    for _ in range(frames):
        try:
            ratelimit.admit(connection_id, NOW, local=container)
            admitted += 1
        except Exception as err:
            assert err.code == "rate_limited"
    return admitted


def test_across_containers_an_agent_gets_at_most_the_unwritten_frames_more(online, clock):
    # GIVEN two warm containers serving one agent; B holds FLUSH_EVERY - 1 frames unwritten
    a, b = ratelimit.LocalCounts(), ratelimit.LocalCounts()
    assert _flood(b, ratelimit.FLUSH_EVERY - 1) == 4
    # WHEN the agent floods A, then B again
    flood_a = _flood(a, 700)
    flood_b = _flood(b, 10)
    # THEN A admits the limit (it cannot see B's 4), B nothing more: 600 + 4, the worst case for two
    assert (flood_a, flood_b, frames_counted()[1]) == (DEFAULT_FRAMES_PER_MINUTE, 0, 600)


def test_alternating_containers_are_held_to_the_limit_plus_their_unwritten_frames(online, clock):
    a, b = ratelimit.LocalCounts(), ratelimit.LocalCounts()
    admitted = sum(_flood(a if n % 2 else b, 1) for n in range(700))
    assert frames_counted()[1] == DEFAULT_FRAMES_PER_MINUTE
    assert (
        DEFAULT_FRAMES_PER_MINUTE <= admitted <= DEFAULT_FRAMES_PER_MINUTE + 2 * (ratelimit.FLUSH_EVERY - 1)
    )


def test_dynamodb_calls_per_frame(online, clock, calls, monkeypatch):
    # Frames 1-4 of a minute: one eventually consistent read each, nothing written.
    for second in range(4):
        ratelimit.admit("conn-1", NOW + second)
    assert calls == ["GetItem"] * 4
    assert frames_counted() == (None, None)
    # The 5th (FLUSH_EVERY): the read, then one write each for the agent and the creator.
    calls.clear()
    ratelimit.admit("conn-1", NOW + 4)
    assert calls == ["GetItem", "UpdateItem", "UpdateItem"]
    assert frames_counted() == (NOW // 60, 5)
    assert h.item("AGENTS_TABLE", "pk", "budget#creator-1")["frameCount"] == 5
    # The next 5: two writes for all of them.
    calls.clear()
    for second in range(5, 10):
        ratelimit.admit("conn-1", NOW + second)
    assert calls == ["GetItem"] * 5 + ["UpdateItem"] * 2
    assert frames_counted() == (NOW // 60, 10)
    # A refused frame: the read, nothing else.
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


def test_a_container_that_missed_the_window_opening_still_adds_to_it(online, clock):
    # GIVEN another container opened this minute with 5 frames, and this one holds 4 unwritten
    for second in range(5):
        ratelimit.admit("conn-1", NOW + second)
    container = ratelimit.LocalCounts()
    for scope in (AGENT_PK, "budget#creator-1"):
        container.set("frame", scope, NOW // 60, 0, 4)
    # WHEN its 5th frame flushes: opening the window fails, adding to it succeeds
    ratelimit.admit("conn-1", NOW + 5, local=container)
    # THEN both containers' frames are counted once
    assert frames_counted() == (NOW // 60, 10)
    assert h.item("AGENTS_TABLE", "pk", "budget#creator-1")["frameCount"] == 10


def test_a_connection_whose_agent_item_is_gone_is_admitted_uncounted(online, clock):
    h.ddb().delete_item(TableName=h.ENV["AGENTS_TABLE"], Key={"pk": {"S": AGENT_PK}})
    assert _flood(ratelimit.LocalCounts(), ratelimit.FLUSH_EVERY) == ratelimit.FLUSH_EVERY
    assert h.agent("agent-1") is None  # a count never re-creates an agent item


def test_a_new_minute_opened_with_the_count_the_last_one_ended_with_is_counted(online, clock):
    # GIVEN a minute whose frames were written as 5 (one flush)
    for second in range(ratelimit.FLUSH_EVERY):
        ratelimit.admit("conn-1", WINDOW_START + second)
    assert frames_counted() == (WINDOW_START // 60, ratelimit.FLUSH_EVERY)
    # WHEN the next minute's first flush opens the window with the same count (the write leaves
    # frameCount as it was, and moto's UPDATED_NEW answer then leaves it out)
    for second in range(ratelimit.FLUSH_EVERY):
        ratelimit.admit("conn-1", WINDOW_START + 60 + second)
    # THEN every frame is admitted and the new minute holds them
    assert frames_counted() == (WINDOW_START // 60 + 1, ratelimit.FLUSH_EVERY)
    assert h.item("AGENTS_TABLE", "pk", "budget#creator-1")["frameCount"] == ratelimit.FLUSH_EVERY
