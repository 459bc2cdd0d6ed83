"""requirements.lock pins and hashes everything `make install` installs; lambdas/requirements.lock is
the Lambda bundle's closure, line for line the same pins and hashes, compiled for the Lambda runtime."""

from __future__ import annotations

import tomllib

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from stacks.lambda_asset import PIP_PLATFORM, PYTHON_VERSION
from tests.infra.lockfile import LAMBDA_LOCK, MAIN_LOCK, REPO, compile_command, read_lock


def _exact_pins(lines):
    pins = {}
    for line in lines:
        req = Requirement(line)
        (spec,) = req.specifier
        assert spec.operator == "==", line
        pins[canonicalize_name(req.name)] = spec.version
    return pins


def test_main_lock_pins_the_installers_and_every_direct_dependency_as_pyproject_does():
    lock = read_lock(MAIN_LOCK)
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    direct = _exact_pins([*project["dependencies"], *extras["sandbox"], *extras["dev"]])
    assert {name: lock[name].version for name in direct} == direct
    assert {"pip", "setuptools"} <= set(lock)


def test_lambda_lock_is_the_main_lock_for_the_bundle_closure():
    main, bundle = read_lock(MAIN_LOCK), read_lock(LAMBDA_LOCK)
    assert {name: main.get(name) for name in bundle} == bundle
    top_level = [
        line
        for line in (REPO / "lambdas" / "requirements.txt").read_text().splitlines()
        if line[:1].isalnum()
    ]
    wanted = _exact_pins(top_level)
    assert {name: bundle[name].version for name in wanted} == wanted


def test_lambda_lock_was_compiled_for_the_lambda_runtime_and_platform():
    cmd = compile_command(LAMBDA_LOCK)
    assert cmd[cmd.index("--python-version") + 1] == PYTHON_VERSION
    # uv spells pip's manylinux2014_aarch64 as aarch64-manylinux2014
    policy, _, machine = PIP_PLATFORM.partition("_")
    assert cmd[cmd.index("--python-platform") + 1] == f"{machine}-{policy}"
    assert "--generate-hashes" in cmd and cmd[cmd.index("-c") + 1] == "requirements.lock"


def test_read_lock_refuses_a_line_without_hashes(tmp_path):
    lock = tmp_path / "requirements.lock"
    lock.write_text("pyjwt==2.15.1 \\\n    --hash=sha256:42d5\njmespath==1.1.0\n")
    with pytest.raises(ValueError) as error:
        read_lock(lock)
    assert str(error.value) == "requirements.lock: not an exact pin with sha256 hashes: jmespath==1.1.0"
