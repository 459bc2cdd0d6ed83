"""`make deploy` runs deploy-check between preparing and executing the change set (fake cdk and byoip)."""

import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PREPARE = "deploy -c stage=staging --method=prepare-change-set --change-set-name byoip-deploy --force"
EXECUTE = "deploy --app cdk.out --method=execute-change-set --change-set-name byoip-deploy"


@pytest.fixture
def fakes(tmp_path):
    """A cdk and a byoip that log their arguments; byoip exits with the code in `rc`."""
    log = tmp_path / "calls.log"
    (tmp_path / "rc").write_text("0")
    for name, body in (
        ("cdk", f'echo "cdk $*" >> {log}'),
        ("byoip", f'echo "byoip $*" >> {log}; exit $(cat {tmp_path / "rc"})'),
    ):
        script = tmp_path / name
        script.write_text(f"#!/bin/bash\n{body}\n")
        script.chmod(0o755)
    return tmp_path, log


def make_deploy(fakes, rc, *extra):
    tmp_path, log = fakes
    (tmp_path / "rc").write_text(str(rc))
    # -o install: the real install target is not the subject here.
    done = subprocess.run(
        [
            "make",
            "-s",
            "-o",
            "install",
            "deploy",
            "STAGE=staging",
            f"CDK={tmp_path / 'cdk'}",
            f"BYOIP={tmp_path / 'byoip'}",
            *extra,
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done.returncode, log.read_text().splitlines()


START = "byoip maintenance start --stage staging --reason make deploy byoip-deploy --missing-ok"
STOP = "byoip maintenance stop --stage staging --missing-ok"


def test_a_passing_check_executes_the_prepared_change_set_inside_a_maintenance_window(fakes):
    code, calls = make_deploy(fakes, 0)
    assert code == 0
    assert calls == [
        f"cdk {PREPARE}",
        "byoip deploy-check --change-set byoip-deploy --stage staging",
        START,
        f"cdk {EXECUTE}",
        STOP,
    ]


def test_a_failed_deploy_still_closes_the_window_and_fails(fakes):
    # GIVEN a check that passes and a change set whose execution fails
    tmp_path, log = fakes
    script = tmp_path / "cdk"
    script.write_text(
        f'#!/bin/bash\necho "cdk $*" >> {log}\ncase "$*" in *execute-change-set*) exit 5;; esac\n'
    )
    code, calls = make_deploy(fakes, 0)
    assert code != 0
    assert calls == [
        f"cdk {PREPARE}",
        "byoip deploy-check --change-set byoip-deploy --stage staging",
        START,
        f"cdk {EXECUTE}",
        STOP,
    ]


def test_a_refusal_stops_before_executing(fakes):
    code, calls = make_deploy(fakes, 1, "ALLOW_REPLACE=TableA QueueB")
    assert code != 0
    assert calls == [
        f"cdk {PREPARE}",
        "byoip deploy-check --change-set byoip-deploy --stage staging "
        "--allow-replace TableA --allow-replace QueueB",
    ]


def test_an_empty_change_set_deploys_nothing_and_succeeds(fakes):
    code, calls = make_deploy(fakes, 3)
    assert code == 0
    assert calls[-1].startswith("byoip deploy-check")
