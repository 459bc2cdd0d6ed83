"""The `fleet` game day (sandbox/gameday/fleet_day.py): a small fleet in CI, the parts in isolation.

The 1,000-agent run is a documented command (docs/cli.md, `make gameday-fleet`; docs/sandbox-performance.md):
    .venv/bin/python -m sandbox.gameday.fleet_day --agents 1000 --speed 3
"""

from __future__ import annotations

import pytest

from sandbox.agent import retry_delay
from sandbox.gameday.fleet_day import FleetDayOptions, main, open_timeout, peak_per_second, run_fleet_day
from tests.sandbox.conftest import TEST_SPEED


def test_peak_per_second_counts_production_seconds_after_the_drop():
    # speed 10: a production second is 0.1 real seconds
    times = [99.99, 100.0, 100.05, 100.09, 100.15, 100.25]
    assert peak_per_second(times, since=100.0, speed=10) == 3  # 100.0, 100.05, 100.09
    assert peak_per_second(times, since=100.0, speed=1) == 5  # the one before the drop not counted
    assert peak_per_second([], since=0, speed=1) == 0


def test_first_retry_after_a_drop_is_full_jitter_over_the_window():
    lowest, highest = (lambda a, b: a), (lambda a, b: b)
    assert retry_delay(1, True, (0.2, 5.0), 30.0, lowest) == 0.0
    assert retry_delay(1, True, (0.2, 5.0), 30.0, highest) == 30.0
    # without a window, or after a failed attempt: exponential backoff, jittered x0.5-1, capped
    assert retry_delay(1, True, (0.2, 5.0), 0.0, highest) == pytest.approx(0.4)
    assert retry_delay(2, False, (0.2, 5.0), 30.0, lowest) == pytest.approx(0.4)
    assert retry_delay(8, False, (0.2, 5.0), 30.0, highest) == 5.0


def test_a_large_fleet_waits_for_the_sandbox_s_queue_of_handshakes():
    # 10 s as the reference agent, until the queue of handshakes (about 10 a real second) is longer
    assert [open_timeout(n) for n in (60, 100, 2000, 10_000)] == [10.0, 10.0, 200.0, 1000.0]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--agents", "0"], "error: invalid sizes --agents 0 --speed 4 --window 30"),
        (["--speed", "61"], "allowed --agents 1-10000, --speed 1-60, --window 0-300"),
        (["--window", "-1"], "--window -1"),
    ],
)
def test_bad_sizes_are_one_error_line_and_exit_2(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


@pytest.mark.slow
def test_a_fleet_comes_back_after_every_connection_drops(local_template, tmp_path):
    options = FleetDayOptions(
        agents=60, speed=TEST_SPEED / 4, template=local_template, workdir=tmp_path, steady_min=1.5
    )
    report = run_fleet_day(options)

    assert report.problems == [] and report.outcome == "passed", report.problems
    assert (report.dropped, report.reconnected) == (60, 60)
    assert report.connects_after_drop >= 60
    assert report.back_99_s is not None and report.back_all_s is not None and report.jobs_flow_s is not None
    assert report.back_99_s <= report.back_all_s
    # 60 agents over a 30 s window: far under the stage's $connect throttle and the account quota
    assert 1 <= report.peak_attempts_per_s <= 50
    assert report.stage_connect_throttle == (50.0, 100.0) and report.api_limit_per_s == 500
    acc = report.accounting
    assert (acc["lost"], acc["pending"], report.duplicate_completions) == (0, 0, 0)
    assert acc["submitted"] > 0 and acc["completed"] + acc["failed"] + acc["held"] == acc["submitted"]
    # what the fleet cost: both ends of 60 sockets open at once, memory and CPU measured
    use = report.resources
    assert report.open_files_limit >= 2 * 60 and use["open_files_connected"] >= 2 * 60
    assert use["rss_kb_per_agent_and_connection"] > 0 and use["connect_cpu_ms_per_agent"] > 0
    assert use["cpu_s_total"] > 0 and use["threads"] > 1


@pytest.mark.parametrize(("window", "code"), [("-1", 2), ("901", 2), ("0", 0), ("900", 0)])
def test_reference_agent_cli_takes_a_reconnect_window_of_0_to_900_s(window, code, monkeypatch, capsys):
    from sandbox import agent_main

    made = []
    monkeypatch.setattr(agent_main, "Agent", lambda *a, **kw: made.append(kw["reconnect_window"]))
    monkeypatch.setattr(agent_main.asyncio, "run", lambda coro: coro.close())
    assert agent_main.main(["ws://127.0.0.1:1/prod", "--token", "t", "--reconnect-window", window]) == code
    if code:
        assert capsys.readouterr().err == f"error: --reconnect-window {window}: allowed 0-900 seconds\n"
        assert made == []
    else:
        assert made == [float(window)]
