"""The least-privilege gate applies to the whole suite's recording only, and says why it skips."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tests.iam import session as gate
from tests.iam.justified import JUSTIFIED

TESTPATHS, ARGS = pytest.Config.ArgsSource.TESTPATHS, pytest.Config.ArgsSource.ARGS


def _session(source=TESTPATHS, args=("tests",), keyword="", failed=0):
    option = SimpleNamespace(keyword=keyword, markexpr="")
    config = SimpleNamespace(args_source=source, args=list(args), option=option)
    return SimpleNamespace(config=config, testsfailed=failed, shouldfail=False, shouldstop=False)


def test_the_whole_suite_is_a_complete_recording(tmp_path):
    assert gate.incomplete(_session(), tmp_path) == ""


@pytest.mark.parametrize(
    ("session", "why"),
    [
        (_session(ARGS, ["tests/lambdas", "tests/unit"]), "this session ran tests/lambdas tests/unit"),
        (_session(keyword="dispatch"), "tests were deselected"),
        (_session(failed=1), "tests failed"),
    ],
)
def test_a_partial_session_skips_the_gate_saying_why(tmp_path, session, why):
    assert why in gate.incomplete(session, tmp_path)


def test_a_worker_that_deselected_makes_the_recording_incomplete(tmp_path, monkeypatch):
    monkeypatch.setenv("BYOIP_AWS_CALLS_DIR", str(tmp_path))
    gate.deselected()
    assert gate.incomplete(_session(), tmp_path) == "tests were deselected"


def test_an_unused_grant_needs_a_reason_and_a_reason_needs_an_unused_grant():
    reasoned = next(iter(JUSTIFIED))
    new = ("function:byoip-S-ws-message", "dynamodb:Scan", "arn:aws:dynamodb:R:A:table/byoip-S-jobs")

    missing, stale = gate.unjustified([reasoned, new])

    assert missing == [new]
    assert reasoned not in stale and len(stale) == len(JUSTIFIED) - 1
