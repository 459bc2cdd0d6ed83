"""Issue 21's attacks on the budgets: each one is counted per agent and per creator, not per connection."""

from __future__ import annotations

import time

from lambdas.ws_connect.handler import handler as connect
from lambdas.ws_message.handler import handler as message
from tests.lambdas import helpers as h

HEARTBEAT = {"action": "heartbeat"}


def _connect(agent: str, creator: str, connection_id: str) -> str:
    assert connect(h.connect_event(h.token(agent, creator), connection_id), None) == {"statusCode": 200}
    return connection_id


def _send(connection_id: str, frame: dict, times: int) -> list[str]:
    for _ in range(times):
        assert message(h.message_event(frame, connection_id), None) == {"statusCode": 200}
    return [f.get("code") or f["type"] for f in h.frames(connection_id)][-times:]


def test_one_creators_flood_does_not_refuse_another_creators_frames(online, clock, monkeypatch):
    # GIVEN per-agent and per-creator frame budgets, and two creators' agents online
    monkeypatch.setenv("FRAMES_PER_MINUTE", "10")
    monkeypatch.setenv("CREATOR_FRAMES_PER_MINUTE", "20")
    other = _connect("agent-9", "creator-2", "conn-9")
    # WHEN creator-1's agents send far more than the creator's ceiling
    flood = [_connect(f"agent-{n}", "creator-1", f"conn-flood-{n}") for n in range(2, 6)]
    refused = sum(_send(c, HEARTBEAT, 15).count("rate_limited") for c in ["conn-1", *flood])
    # THEN the flood is refused, and creator-2's agent still gets its whole own budget
    assert refused == 5 * 15 - 20
    assert _send(other, HEARTBEAT, 10) == ["ack"] * 10


def test_one_token_four_connections_twenty_log_upload_forms_get_at_most_five(online, clock, monkeypatch):
    monkeypatch.setenv("LOG_UPLOADS_PER_DAY", "5")
    answers: list[str] = []
    for n in range(4):  # the same token (agent-1 of creator-1) opens a connection after another
        connection_id = "conn-1" if n == 0 else _connect("agent-1", "creator-1", f"conn-1-{n}")
        answers += _send(connection_id, {"action": "logs.upload"}, 5)
    assert answers.count("logs.upload") == 5
    assert answers[5:] == ["rate_limited"] * 15
    assert h.frames("conn-1-3")[-1]["message"].startswith("over 5 log-upload forms a day for this agent")


def test_an_agents_frames_over_its_budget_across_connections_are_refused(online, clock, monkeypatch):
    monkeypatch.setenv("FRAMES_PER_MINUTE", "6")
    first = _send("conn-1", HEARTBEAT, 4)
    second = _send(_connect("agent-1", "creator-1", "conn-1b"), HEARTBEAT, 4)
    assert (first, second) == (["ack"] * 4, ["ack", "ack", "rate_limited", "rate_limited"])


def test_a_creator_with_many_agents_hits_the_creator_ceiling(online, clock, monkeypatch):
    monkeypatch.setenv("FRAMES_PER_MINUTE", "10")
    monkeypatch.setenv("CREATOR_FRAMES_PER_MINUTE", "12")
    agents = ["conn-1", *(_connect(f"agent-{n}", "creator-1", f"conn-{n}") for n in range(2, 7))]
    answers = [code for c in agents for code in _send(c, HEARTBEAT, 3)]  # 18 frames, each agent well under 10
    assert answers == ["ack"] * 12 + ["rate_limited"] * 6
    assert h.frames("conn-6")[-1]["message"].startswith("over 12 frames a minute for this creator's agents")


def test_patch_checks_are_budgeted_per_agent(online, clock, monkeypatch):
    monkeypatch.setenv("PATCH_CHECKS_PER_MINUTE", "2")
    answers = _send("conn-1", {"action": "patch.check", "version": "1.0.0"}, 2)
    answers += _send(
        _connect("agent-1", "creator-1", "conn-1b"), {"action": "patch.check", "version": "1.0.0"}, 2
    )
    assert "rate_limited" not in answers[:2]
    assert answers[2:] == ["rate_limited", "rate_limited"]


def test_a_connect_flood_of_expired_or_malformed_tokens_is_refused_before_any_key_lookup(queues, monkeypatch):
    import time

    from lambdas.common import keys

    looked_up: list[bool] = []
    real = keys._ring  # every key lookup reads the key ring (under WS_JWT_SECRET_ARN: Secrets Manager)

    def counted(config, *, refresh=False):
        looked_up.append(refresh)
        return real(config, refresh=refresh)

    monkeypatch.setattr(keys, "_ring", counted)
    hour_ago = int(time.time()) - 3600
    flood = [
        h.token(iat=hour_ago, kid="k-unknown"),  # expired, under a kid we would read the keys again for
        h.token(iat=hour_ago),  # expired, our own kid
        h.token(lifetime=86_400, kid="k-unknown"),  # a day long
        "not-a-jwt",
        h.token(drop=("exp",), kid="k-unknown"),
    ]
    answers = [connect(h.connect_event(tok, f"conn-flood-{n}"), None) for n, tok in enumerate(flood)]
    assert answers == [{"statusCode": 401}] * len(flood)
    assert looked_up == []  # no key read: under WS_JWT_SECRET_ARN each would be a Secrets Manager call
    assert connect(h.connect_event(h.token(), "conn-real"), None) == {"statusCode": 200}
    assert looked_up == [False]


def test_an_agent_that_floods_past_rate_limited_is_cut_off_and_its_token_refused(
    online, clock, api, out, monkeypatch
):
    # GIVEN an agent's budget of 10 frames a minute, and another creator's agent online (the handlers'
    # clock is the wall clock's second here: token expiry is checked against the wall clock)
    start = int(time.time())
    clock.set(start)
    monkeypatch.setenv("FRAMES_PER_MINUTE", "10")
    other = _connect("agent-9", "creator-2", "conn-9")
    # WHEN creator-1's agent goes on sending after rate_limited (each frame spent the stage's shared
    # $default bucket at the edge before ws-message refused it)
    for _ in range(20):
        assert message(h.message_event(HEARTBEAT, "conn-1"), None) == {"statusCode": 200}
    # THEN once as many frames were refused as its whole budget, it is told and cut off
    codes = [f.get("code") or f["type"] for f in api.frames_to("conn-1")]
    assert codes == ["ack"] * 10 + ["rate_limited"] * 9 + ["flooding"]
    assert api.closed == ["conn-1"] and h.conn("conn-1") is None
    # AND its token is revoked: a reconnect ends at $connect (its own bucket, 401), not in $default
    reconnect = h.connect_event(h.token("agent-1", "creator-1", iat=start), "conn-1c")
    assert connect(reconnect, None) == {"statusCode": 401}
    assert "ws_connect_rejected reason=token_revoked" in out.messages()
    # AND another creator's agent is untouched
    assert _send(other, HEARTBEAT, 10) == ["ack"] * 10
    # AND an agent refused fewer frames than its budget is never cut off (it may wait out the minute)
    assert _send(other, HEARTBEAT, 9) == ["rate_limited"] * 9 and api.closed == ["conn-1"]
