"""The on-call CLI runs without the sandbox extra: no moto, no websockets (issue: one way down)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

# A child interpreter in which importing moto or websockets fails, as on a machine that
# installed `byoip-ops` without the `sandbox` extra.
_BLOCKED_RUN = textwrap.dedent(
    """
    import sys

    class _Absent:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("moto", "websockets"):
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, _Absent())
    from automation.cli import run
    code = run(sys.argv[1:])
    loaded = sorted({m.split(".")[0] for m in sys.modules} & {"moto", "websockets", "aws_cdk"})
    print("loaded:", ",".join(loaded) or "-", file=sys.stderr)
    sys.exit(code)
    """
)


def _byoip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _BLOCKED_RUN, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "200", "AWS_EC2_METADATA_DISABLED": "true"},
    )


def test_help_lists_the_on_call_commands_and_says_the_sandbox_is_not_installed():
    done = _byoip("--help")
    assert done.returncode == 0, done.stderr
    for command in ("redrive", "token", "triage", "dlq", "runbook", "alarms"):
        assert f" {command} " in done.stdout
    assert "Unavailable: websockets is not installed" in done.stdout or (
        "Unavailable: moto is not installed" in done.stdout
    )
    assert done.stderr.strip().splitlines()[-1] == "loaded: -"


def test_an_on_call_command_runs_and_loads_neither_the_sandbox_nor_cdk():
    key = "k" * 40
    done = _byoip("token", "--agent-id", "a-1", "--creator-id", "c-1", "--secret", key)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count(".") == 2  # header.claims.signature
    assert done.stderr.strip().splitlines()[-1] == "loaded: -"


def test_a_sandbox_command_without_the_extra_is_one_line_and_exit_2():
    done = _byoip("gameday", "backlog", "--speed", "30")
    assert done.returncode == 2
    error_lines = [line for line in done.stderr.splitlines() if not line.startswith("loaded:")]
    assert len(error_lines) == 1
    assert error_lines[0].startswith("error: `byoip gameday` needs the sandbox extra (")
    assert error_lines[0].endswith("is not installed): pip install -e '.[sandbox]'")


def test_rendering_a_runbook_never_loads_cdk():
    done = _byoip("runbook", "render", "--stage", "staging", "--region", "eu-west-1")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("# BYO-IP triage runbook: stage `staging`")
    assert done.stderr.strip().splitlines()[-1] == "loaded: -"
