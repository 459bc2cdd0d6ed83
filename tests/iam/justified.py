"""Grants no recorded call uses, each kept for a stated reason (stage-free: `S` is the stage, `R`/`A`
the region and account). tests/iam/session.py fails the whole-suite run on an unused grant missing
here, and on a reason left here after its grant is used or removed."""

from __future__ import annotations

JUSTIFIED: dict[tuple[str, str, str], str] = {}
