"""Read a hashed requirements lock (`name==version` lines each continued by `--hash=sha256:…`)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple

from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[2]
MAIN_LOCK = REPO / "requirements.lock"
LAMBDA_LOCK = REPO / "lambdas" / "requirements.lock"
_PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s;]+)$")


class Pin(NamedTuple):
    version: str
    hashes: frozenset[str]


def read_lock(path: Path) -> dict[str, Pin]:
    """Canonical name -> (version, sha256 hashes); a line that is not an exact hashed pin raises."""
    logical = re.sub(r"\\\n", " ", path.read_text())
    pins: dict[str, Pin] = {}
    for line in logical.splitlines():
        tokens = line.split("#", 1)[0].split()
        if not tokens:
            continue
        match = _PIN.match(tokens[0])
        hashes = frozenset(t.removeprefix("--hash=") for t in tokens[1:] if t.startswith("--hash=sha256:"))
        if match is None or not hashes or len(hashes) != len(tokens) - 1:
            raise ValueError(f"{path.name}: not an exact pin with sha256 hashes: {line.strip()}")
        pins[canonicalize_name(match["name"])] = Pin(match["version"], hashes)
    return pins


def compile_command(path: Path) -> list[str]:
    """The `uv pip compile …` command the lock's header records."""
    for line in path.read_text().splitlines():
        if line.startswith("#") and "uv pip compile" in line:
            return line.lstrip("# ").split()
    raise ValueError(f"{path.name}: no `uv pip compile` header")
