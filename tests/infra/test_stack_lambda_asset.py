"""Local bundling of the one Lambda asset: pip for the Lambda platform, then the package itself."""

from __future__ import annotations

import os
import subprocess
import sys

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

import aws_cdk as cdk  # noqa: E402

from stacks.lambda_asset import LocalPipBundling  # noqa: E402

IMAGE = cdk.DockerImage.from_registry("unused")


def _source(tmp_path, *, requirements: bool):
    src = tmp_path / "lambdas"
    (src / "common" / "__pycache__").mkdir(parents=True)
    (src / "__init__.py").write_text("")
    (src / "common" / "__init__.py").write_text("")
    (src / "common" / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"\0")
    (src / "dispatcher_sqs").mkdir()
    (src / "dispatcher_sqs" / "handler.py").write_text("def handler(event, context): ...\n")
    if requirements:
        (src / "requirements.txt").write_text("PyJWT==2.15.1\n")
    return src


def _files(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_pip_installs_wheels_for_the_lambda_platform_then_copies_the_package(tmp_path, monkeypatch):
    # GIVEN a lambdas/ source with requirements and build litter
    src = _source(tmp_path, requirements=True)
    out = tmp_path / "out"
    out.mkdir()
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda cmd, check: calls.append((cmd, check)))
    # WHEN bundled locally
    assert LocalPipBundling(src).try_bundle(str(out), image=IMAGE) is True
    # THEN pip targets the asset with arm64 / CPython 3.14 wheels only
    ((cmd, check),) = calls
    assert check is True
    assert cmd[:4] == [sys.executable, "-m", "pip", "install"]
    assert cmd[cmd.index("--target") + 1] == str(out)
    assert cmd[cmd.index("-r") + 1] == str(src / "requirements.txt")
    assert "--only-binary=:all:" in cmd and "--no-compile" in cmd
    assert cmd[cmd.index("--platform") + 1] == "manylinux2014_aarch64"
    assert cmd[cmd.index("--python-version") + 1] == "3.14"
    # AND the package sits at the asset root as `lambdas`, without caches or the requirements file
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
