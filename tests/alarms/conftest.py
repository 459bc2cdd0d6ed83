"""The synthesized templates the YAML alarm tests run against, built once per session."""

from __future__ import annotations

from typing import Any

import pytest

from monitoring.evaluator.runner import Runner
from monitoring.evaluator.templates import cached_template


@pytest.fixture(scope="session")
def synthesized() -> dict[tuple[str, str], dict[str, Any]]:
    """(stage, alert mode) -> template; synthesized on first use, cached on disk across workers."""

    class Templates(dict):
        def __missing__(self, key: tuple[str, str]) -> dict[str, Any]:
            self[key] = cached_template(*key)
            return self[key]

    return Templates()


@pytest.fixture(scope="session")
def runner(synthesized) -> Runner:
    """Runs alarm tests against the synthesized templates."""
    return Runner(lambda stage, mode: synthesized[(stage, mode)])
