"""The capacity model (stacks/capacity.py): the stack's limits are its sizing, and its answers."""

from __future__ import annotations

import pytest

from benchmarks import capacity as bench
from stacks import capacity as cap
from stacks import limits


def test_the_stack_deploys_the_models_sizing_for_its_stated_fleet() -> None:
    sized = cap.sizing(limits.FLEET_AGENTS)
    throttles = {route: (t.rate, t.burst) for route, t in limits.STAGE_THROTTLES.items()}
    assert throttles == {
        "$connect": (sized.connect_rate, sized.connect_burst),
        "$default": (sized.default_rate, sized.default_burst),
        "*": (sized.other_rate, sized.other_burst),
    }
    reserved = {name: c.reserved for name, c in limits.RESERVED_CONCURRENCY.items()}
    assert reserved == {
        "dispatcher-sqs": sized.dispatcher,
        "ws-connect": sized.ws_connect,
        "ws-message": sized.ws_message,
        "ws-disconnect": sized.ws_disconnect,
    }
    assert limits.CREATOR_FRAMES_PER_MINUTE == sized.creator_frames_per_minute


def test_for_a_thousand_agents_the_model_gives_the_numbers_docs_contracts_states() -> None:
    sized = cap.sizing(1_000)
    assert (sized.connect_rate, sized.connect_burst, sized.default_rate, sized.default_burst) == (
        50,
        100,
        200,
        400,
    )
    assert (sized.other_rate, sized.dispatcher, sized.ws_connect, sized.ws_message, sized.ws_disconnect) == (
        100,
        20,
        50,
        50,
        20,
    )
    assert sized.creator_frames_per_minute == 3_000


def test_the_first_limit_a_growing_busy_fleet_meets_is_the_default_throttle_at_2000_agents() -> None:
    # 2,000 agents x 6 frames a minute / 60 = 200 frames/s = the `$default` rate; one more passes it.
    fleet, binds = cap.largest_fleet(cap.sizing(1_000))
    assert (fleet, binds.name) == (2_000, "$default stage throttle")
    assert binds.demand > binds.limit


def test_connect_never_takes_more_than_half_the_accounts_new_connections() -> None:
    for agents in (10, 1_000, 10_000, 100_000, 1_000_000):
        assert cap.sizing(agents).connect_rate <= cap.QUOTAS["ws_new_connections"].value / 2


def test_a_resized_fleet_of_10000_needs_a_higher_lambda_concurrency_quota_and_nothing_else() -> None:
    jobs = cap.default_jobs_per_s(10_000)
    assert [action.load for action in cap.actions(10_000, jobs, warn_at=1.0)] == [
        "Lambda account concurrency"
    ]
    assert cap.sizing(10_000).reserved + 100 > cap.QUOTAS["lambda_concurrency"].value


@pytest.mark.parametrize(
    ("agents", "limited", "rate", "bound"),
    [
        (1_000, False, 3_000 / 60 - 10 / 60, "frame ceiling"),  # the ceiling, less 10 agents' heartbeats
        (10_000, True, 1_000 / (2 * 2), "CreatorLimits"),  # 2 transactional writes of 2 WCU per job
    ],
)
def test_a_hot_creators_largest_job_rate(agents: int, limited: bool, rate: float, bound: str) -> None:
    hot = cap.hot_creator(cap.sizing(agents), agents=10, limited=limited)
    assert hot.jobs_per_s == pytest.approx(rate)
    assert bound in hot.binding


def test_every_quota_cites_an_aws_page() -> None:
    assert all(q.source.startswith("https://docs.aws.amazon.com/") for q in cap.QUOTAS.values())


def test_the_benchmark_prints_the_model_and_refuses_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench.main(["--agents", "2001"]) == 0
    out = capsys.readouterr().out
    assert "2,001 agents, 166.8 jobs/s" in out and "<- binds" in out
    assert "Largest busy fleet the deployed limits carry: 2,000 agents" in out
    with pytest.raises(SystemExit) as exit_:
        bench.main(["--agents", "ten"])
    assert exit_.value.code == 2
    assert "--agents must be comma-separated whole numbers" in capsys.readouterr().err
