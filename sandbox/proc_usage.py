"""Memory and CPU of the sandbox's processes, read from /proc (Linux), and the open-files limit.

The sandbox is this process (gateway, functions, pollers, and a fleet's agents when one runs here)
and its children (the moto servers, sandbox/moto_process.py). `snapshot()` reads each one's
resident memory and CPU time (user + system), and the CPU time of given threads of this process
(the fleet's and the gateway's event loops), so a caller can take two snapshots and divide the
differences by agents, connections or production minutes (sandbox/gameday/fleet_day.py).
"""

from __future__ import annotations

import os
import resource
from dataclasses import dataclass, field
from pathlib import Path

_PROC = Path("/proc")
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_PAGE_KB = (os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096) // 1024


@dataclass
class Snapshot:
    rss_kb: dict[int, int] = field(default_factory=dict)  # pid -> resident set, KiB
    cpu_s: dict[int, float] = field(default_factory=dict)  # pid -> user + system CPU seconds
    thread_cpu_s: dict[int, float] = field(default_factory=dict)  # native thread id -> CPU seconds
    threads: int = 0  # threads of this process
    open_files: int = 0  # file descriptors open in this process


def _stat_cpu(path: Path) -> float | None:
    """utime + stime of a /proc/<pid>/stat or /proc/<pid>/task/<tid>/stat, in seconds."""
    try:
        text = path.read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()  # the command name may hold spaces
    return (int(fields[11]) + int(fields[12])) / _TICKS


def _rss_kb(pid: int) -> int | None:
    try:
        return int((_PROC / str(pid) / "statm").read_text().split()[1]) * _PAGE_KB
    except (OSError, IndexError, ValueError):
        return None


def children(pid: int | None = None) -> list[int]:
    """Direct children of `pid` (default: this process)."""
    parent = pid or os.getpid()
    found = []
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
        except OSError:
            continue
        if int(text[text.rindex(")") + 2 :].split()[1]) == parent:
            found.append(int(entry.name))
    return found


def snapshot(thread_ids: list[int] | None = None) -> Snapshot:
    """This process and its children; the CPU time of the given threads of this process."""
    me = os.getpid()
    snap = Snapshot()
    for pid in [me, *children(me)]:
        rss, cpu = _rss_kb(pid), _stat_cpu(_PROC / str(pid) / "stat")
        if rss is not None and cpu is not None:
            snap.rss_kb[pid], snap.cpu_s[pid] = rss, cpu
    for tid in thread_ids or []:
        cpu = _stat_cpu(_PROC / str(me) / "task" / str(tid) / "stat")
        if cpu is not None:
            snap.thread_cpu_s[tid] = cpu
    try:
        snap.threads = len(os.listdir(_PROC / str(me) / "task"))
        snap.open_files = len(os.listdir(_PROC / str(me) / "fd"))
    except OSError:
        pass
    return snap


def raise_open_files(wanted: int) -> int:
    """Raise RLIMIT_NOFILE's soft limit to `wanted` (or the hard limit if lower); returns the soft
    limit now in force. Children (the moto servers) inherit it. Root may also raise the hard limit,
    up to the kernel's fs.nr_open; anyone else stops at the hard limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= wanted:
        return soft
    if hard != resource.RLIM_INFINITY and hard < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, wanted))
            return wanted
        except (ValueError, OSError):  # not root, or over fs.nr_open: stay within the hard limit
            pass
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return target
