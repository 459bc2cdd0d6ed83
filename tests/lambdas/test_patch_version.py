"""patch_version: the order agents and `byoip patch publish` agree on, and its rule for unordered versions."""

from __future__ import annotations

import pytest

from lambdas.common.patch_version import is_newer, version_key

# each strictly older than the next
ASCENDING = [
    "0.9",
    "1.0.0-alpha",
    "1.0.0-alpha.1",
    "1.0.0-alpha.beta",
    "1.0.0-beta.2",
    "1.0.0-beta.11",
    "1.0.0-rc.1",
    "1.0.0",
    "1.0.1",
    "1.2",
    "1.10.0",
    "2.0.0",
    "2.0.0.1",
    "10.0.0",
]


@pytest.mark.parametrize(("older", "newer"), list(zip(ASCENDING, ASCENDING[1:], strict=False)))
def test_versions_order_as_semver_with_numbers_by_value(older, newer):
    assert is_newer(newer, older) is True
    assert is_newer(older, newer) is False


@pytest.mark.parametrize(("a", "b"), [("1.4", "1.4.0"), ("2.0.0+b7", "2.0.0"), ("1", "1.0.0.0")])
def test_equal_versions_are_not_newer_either_way(a, b):
    assert version_key(a) == version_key(b)
    assert is_newer(a, b) is False and is_newer(b, a) is False


@pytest.mark.parametrize(
    "version",
    ["sandbox-1.0", "v2.0.0", "01.0.0", "1.0.0.0.0", "1..0", "1.0.", "2.0.0-", "2.0.0+", "", "1.0-a..b"],
)
def test_a_version_outside_the_grammar_is_unordered_and_never_newer(version):
    assert version_key(version) is None
    assert is_newer(version, "0.1") is False
    assert is_newer(version, None) is False


def test_an_agent_on_an_unordered_or_unknown_version_takes_any_ordered_one():
    assert is_newer("0.0.1", "sandbox-1.0") is True
    assert is_newer("0.0.1", None) is True
    assert is_newer("0.0.1", "") is True
