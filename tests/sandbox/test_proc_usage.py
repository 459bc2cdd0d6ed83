"""sandbox/proc_usage.py: memory and CPU from /proc, the open-files limit; the fleet day's figures."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import threading

from sandbox.gameday.fleet_day import usage_report
from sandbox.proc_usage import Snapshot, children, raise_open_files, snapshot


def test_a_snapshot_reads_this_process_its_children_and_a_thread():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        spin = threading.Event()

        def work() -> None:
            while not spin.is_set():
                sum(range(1000))

        thread = threading.Thread(target=work)
        thread.start()
        try:
            first = snapshot([thread.native_id])
            sum(range(3_000_000))
            second = snapshot([thread.native_id])
        finally:
            spin.set()
            thread.join()
        assert child.pid in children()
        assert set(second.rss_kb) >= {os.getpid(), child.pid}
        assert second.rss_kb[os.getpid()] > 10_000  # an interpreter with the sandbox imported
        assert second.cpu_s[os.getpid()] >= first.cpu_s[os.getpid()]
        assert thread.native_id in second.thread_cpu_s
        assert second.threads >= 2 and second.open_files >= 3
    finally:
        child.kill()
        child.wait()


def test_the_open_files_soft_limit_is_raised_within_the_hard_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        assert raise_open_files(soft) == soft  # already enough: unchanged
        got = raise_open_files(soft + 1)
        assert got >= soft + 1 or got == hard
        assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] == got
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))


def test_per_agent_figures_are_the_differences_divided():
    me, moto = os.getpid(), os.getpid() + 1

    def snap(main_kb, moto_kb, main_cpu, moto_cpu, fleet_cpu):
        return Snapshot({me: main_kb, moto: moto_kb}, {me: main_cpu, moto: moto_cpu}, {7: fleet_cpu}, 40, 300)

    before = snap(100_000, 50_000, 10.0, 5.0, 0.0)
    connected = snap(150_000, 60_000, 30.0, 15.0, 4.0)  # 100 agents: 500 KiB and 100 KiB each
    idle_end = snap(151_000, 60_000, 36.0, 17.0, 6.0)  # 2 production minutes: 2 s agents, 6 s the rest
    end = snap(160_000, 70_000, 50.0, 20.0, 9.0)
    out = usage_report(before, connected, idle_end, end, 100, 2.0, 7)
    assert out["rss_kb_per_agent_and_connection"] == 500.0
    assert out["moto_rss_kb_per_connection"] == 100.0
    assert out["connect_cpu_ms_per_agent"] == 300.0  # (20 + 10) s over 100 agents
    assert out["agent_cpu_ms_per_agent_min"] == 10.0  # 2 s / 100 / 2 min
    assert out["sandbox_cpu_ms_per_connection_min"] == 30.0  # (8 - 2) s / 100 / 2 min
    assert out["storm_cpu_ms_per_agent"] == 170.0  # (14 + 3) s / 100
    assert out["cpu_s_total"] == 55.0
    assert out["peak_rss_mb_end"] == round(230_000 / 1024, 1)
