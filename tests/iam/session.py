"""The session's IAM check: record every AWS call made as a role, evaluate them all at the end.

The controller makes a fresh directory for the session's records (BYOIP_AWS_CALLS_DIR; pytest-xdist
workers inherit it and each write their own file). When the session ends the controller evaluates
every recorded call against the synthesized template (tests/iam/check.py): a denial fails the
session, naming the caller, the action and the resource. Grants no call used are listed with their
reason from tests/iam/justified.py (a report: the list of reasons is not complete yet, see
docs/architecture.md, so a missing reason does not fail the session).
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


def configure(config: pytest.Config) -> None:
    recorder.install()
    if not hasattr(config, "workerinput"):  # the controller (or a run without xdist)
        os.environ[recorder.CALLS_DIR_ENV] = tempfile.mkdtemp(prefix="byoip-aws-calls-")


def _whole_suite(session: pytest.Session) -> bool:
    return session.config.args_source == pytest.Config.ArgsSource.TESTPATHS


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
    lines.append(
        f"IAM check: {len(unused)} granted (action, resource) no recorded call used, each with its reason:"
    )
    lines += [f"  unused {c} {a} on {r}: {JUSTIFIED.get((c, a, r), 'NO REASON GIVEN')}" for c, a, r in unused]
    failed = bool(report.denials)
    if _whole_suite(session):
        missing, stale = unjustified(unused)
        lines += [f"IAM check: unused grant without a reason: {c} {a} on {r}" for c, a, r in missing]
        lines += [f"IAM check: reason for a grant that is used or gone: {c} {a} on {r}" for c, a, r in stale]
    session.config.stash[_LINES] = lines
    if failed:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def summary_lines(config: pytest.Config) -> list[str]:
    return config.stash.get(_LINES, [])
