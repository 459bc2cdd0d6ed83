"""The session's IAM check: record every AWS call made as a role, evaluate them all at the end.

The controller makes a fresh directory for the session's records (BYOIP_AWS_CALLS_DIR; pytest-xdist
workers inherit it and each write their own file). When the session ends the controller evaluates
every recorded call against the synthesized template (tests/iam/check.py): a denial fails any
session, naming the caller, the action and the resource.

Least privilege is a gate only on a complete recording: the whole suite (pytest run on its
testpaths, nothing deselected, every test passed). Then a granted (action, resource) no call used
and without a reason in tests/iam/justified.py fails the session, and so does a reason whose grant
is used or gone. Any other session (one file, one directory, `-k`, the moved-clock and the loaded
passes of `make test`) prints the line saying why the gate is skipped.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from sandbox.iam import recorder
from tests.iam.check import evaluate, read_records, summary
from tests.iam.justified import JUSTIFIED

_LINES = pytest.StashKey[list[str]]()
DESELECTED = "deselected"  # a marker file a process writes in the records directory


def configure(config: pytest.Config) -> None:
    recorder.install()
    if not hasattr(config, "workerinput"):  # the controller (or a run without xdist)
        os.environ[recorder.CALLS_DIR_ENV] = tempfile.mkdtemp(prefix="byoip-aws-calls-")


def deselected() -> None:
    """Some collected test will not run (pytest-xdist workers deselect, so they leave a marker)."""
    directory = os.environ.get(recorder.CALLS_DIR_ENV)
    if directory:
        (Path(directory) / f"{DESELECTED}-{os.getpid()}").touch()


def incomplete(session: pytest.Session, directory: Path) -> str:
    """Why this session's recording is not the whole suite's ("" when it is)."""
    config = session.config
    if config.args_source != pytest.Config.ArgsSource.TESTPATHS:
        return f"this session ran {' '.join(config.args)}, not the whole suite"
    if config.option.keyword or config.option.markexpr or list(directory.glob(f"{DESELECTED}-*")):
        return "tests were deselected"
    if session.testsfailed or session.shouldfail or session.shouldstop:
        return "tests failed or the session stopped early"
    return ""


def unjustified(
    unused: list[tuple[str, str, str]],
) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]]]:
    """(unused grants with no reason, reasons whose grant is used or gone)."""
    return [u for u in unused if u not in JUSTIFIED], [j for j in JUSTIFIED if j not in unused]


def finish(session: pytest.Session) -> None:
    if hasattr(session.config, "workerinput"):
        return
    directory = Path(os.environ.get(recorder.CALLS_DIR_ENV, ""))
    records = read_records(directory) if directory.is_dir() else []
    if not any(not r.get("binding") for r in records):
        return
    report = evaluate(records)
    lines = [*summary(report), f"IAM check: the records are in {directory}"]
    unused = report.unused()
    missing, stale = unjustified(unused)
    lines.append(
        f"IAM check: {len(unused)} granted (action, resource) no recorded call used"
        f" ({len(unused) - len(missing)} with a reason in tests/iam/justified.py)"
    )
    failed = bool(report.denials)
    why = incomplete(session, directory)
    if why:
        lines.append(f"IAM check: unused-grant gate skipped: {why} (the recording is incomplete)")
    else:
        lines += [f"IAM check: UNUSED grant without a reason: {c} {a} on {r}" for c, a, r in missing]
        lines += [f"IAM check: STALE reason, its grant is used or gone: {c} {a} on {r}" for c, a, r in stale]
        failed = failed or bool(missing or stale)
        lines.append(f"IAM check: unused-grant gate {'FAILED' if missing or stale else 'passed'}")
    session.config.stash[_LINES] = lines
    if failed:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def summary_lines(config: pytest.Config) -> list[str]:
    return config.stash.get(_LINES, [])
