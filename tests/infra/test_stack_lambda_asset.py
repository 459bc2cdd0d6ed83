"""Local bundling of the one Lambda asset: the locked wheels for the Lambda platform, then the package."""

from __future__ import annotations

import os
import subprocess
import sys
from email.parser import Parser

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

import aws_cdk as cdk  # noqa: E402
import pytest  # noqa: E402
from packaging.tags import Tag, compatible_tags, cpython_tags  # noqa: E402
from packaging.utils import canonicalize_name  # noqa: E402

from stacks.lambda_asset import PIP_PLATFORM, PYTHON_VERSION, LocalPipBundling  # noqa: E402
from tests.infra.lockfile import LAMBDA_LOCK, MAIN_LOCK, read_lock  # noqa: E402

IMAGE = cdk.DockerImage.from_registry("unused")


def _source(tmp_path, *, requirements: bool, lock: bool = True):
    src = tmp_path / "lambdas"
    (src / "common" / "__pycache__").mkdir(parents=True)
    (src / "__init__.py").write_text("")
    (src / "common" / "__init__.py").write_text("")
    (src / "common" / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"\0")
    (src / "dispatcher_sqs").mkdir()
    (src / "dispatcher_sqs" / "handler.py").write_text("def handler(event, context): ...\n")
    if requirements:
        (src / "requirements.txt").write_text("PyJWT==2.15.1\n")
    if requirements and lock:
        (src / "requirements.lock").write_text("pyjwt==2.15.1 \\\n    --hash=sha256:42d5\n")
    return src


def _files(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_pip_installs_the_locked_wheels_for_the_lambda_platform_then_copies_the_package(
    tmp_path, monkeypatch
):
    # GIVEN a lambdas/ source with requirements, their lock and build litter
    src = _source(tmp_path, requirements=True)
    out = tmp_path / "out"
    out.mkdir()
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda cmd, check: calls.append((cmd, check)))
    # WHEN bundled locally
    assert LocalPipBundling(src).try_bundle(str(out), image=IMAGE) is True
    # THEN pip installs the lock, hashes checked, into the asset with arm64 / CPython 3.14 wheels only
    ((cmd, check),) = calls
    assert check is True
    assert cmd[:4] == [sys.executable, "-m", "pip", "install"]
    assert cmd[cmd.index("--target") + 1] == str(out)
    assert cmd[cmd.index("-r") + 1] == str(src / "requirements.lock")
    assert "--require-hashes" in cmd and "--only-binary=:all:" in cmd and "--no-compile" in cmd
    assert cmd[cmd.index("--platform") + 1] == "manylinux2014_aarch64"
    assert cmd[cmd.index("--python-version") + 1] == "3.14"
    # AND the package sits at the asset root as `lambdas`, without caches or the requirements files
    assert _files(out) == [
        "lambdas/__init__.py",
        "lambdas/common/__init__.py",
        "lambdas/dispatcher_sqs/handler.py",
    ]


def test_without_requirements_only_the_package_is_copied(tmp_path, monkeypatch):
    src = _source(tmp_path, requirements=False)
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: (_ for _ in ()).throw(AssertionError("no pip")))
    assert LocalPipBundling(src).try_bundle(str(out), image=IMAGE) is True
    assert "lambdas/dispatcher_sqs/handler.py" in _files(out)


def test_requirements_without_their_lock_stop_the_bundle(tmp_path, monkeypatch):
    src = _source(tmp_path, requirements=True, lock=False)
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: (_ for _ in ()).throw(AssertionError("no pip")))
    with pytest.raises(FileNotFoundError, match=r"requirements\.lock is missing: run `make lock`$"):
        LocalPipBundling(src).try_bundle(str(tmp_path / "out"), image=IMAGE)


def _installed(root):
    """Canonical name -> (version, wheel tags) of every distribution pip installed under root."""
    found = {}
    for dist_info in root.glob("*.dist-info"):
        meta = Parser().parsestr((dist_info / "METADATA").read_text(), headersonly=True)
        wheel = Parser().parsestr((dist_info / "WHEEL").read_text(), headersonly=True)
        found[canonicalize_name(meta["Name"])] = (meta["Version"], set(wheel.get_all("Tag")))
    return found


def test_the_real_bundle_holds_exactly_the_locked_versions_built_for_the_lambda(tmp_path):
    # GIVEN the repo's lambdas/ and its lock (pip downloads the wheels from the package index)
    out = tmp_path / "asset"
    out.mkdir()
    # WHEN bundled for real
    assert LocalPipBundling().try_bundle(str(out), image=IMAGE) is True
    # THEN every installed distribution is a locked one, at the version both locks pin
    installed = _installed(out)
    locked, main = read_lock(LAMBDA_LOCK), read_lock(MAIN_LOCK)
    assert {name: version for name, (version, _tags) in installed.items()} == {
        name: pin.version for name, pin in locked.items()
    }
    assert all(main[name].version == version for name, (version, _tags) in installed.items())
    # AND every wheel runs on the Lambda's CPython and arm64 platform
    python = tuple(int(part) for part in PYTHON_VERSION.split("."))
    platforms = [PIP_PLATFORM, "manylinux_2_17_" + PIP_PLATFORM.partition("_")[2]]  # one policy, two names
    interpreter = "cp" + PYTHON_VERSION.replace(".", "")
    runnable = {*cpython_tags(python, platforms=platforms), *compatible_tags(python, interpreter, platforms)}
    for name, (_version, tags) in installed.items():
        assert {Tag(*tag.split("-")) for tag in tags} & runnable, name
    assert (out / "lambdas" / "dispatcher_sqs" / "handler.py").is_file()
