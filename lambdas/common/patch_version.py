"""Patch versions and their order: what "newer" means to the agent and to `byoip patch publish`.

A version is ordered when it reads `N[.N[.N[.N]]][-pre][+build]`: one to four numbers (a missing
number is 0, so `1.4` is `1.4.0`), an optional pre-release of dot-separated identifiers of
[0-9A-Za-z-] (it orders before its release, identifiers compared as SemVer 2.0.0 does: numbers
by value and before words, words by ASCII), and an optional build tag that takes no part in the
order (`2.0.0+b7` is `2.0.0`). Anything else that VERSION_PATTERN admits is unordered.

The rule for unordered versions: an agent refuses any offered version that is unordered
(`version_invalid`), and an agent whose own version is unordered (a local build, `sandbox-1.0`)
takes any ordered version as newer, so it can always be brought onto a release; from then on it
never moves down. `byoip patch publish` only publishes ordered versions.
"""

from __future__ import annotations

import re

_VERSION = re.compile(
    r"(?P<release>(?:0|[1-9][0-9]{0,8})(?:\.(?:0|[1-9][0-9]{0,8})){0,3})"
    r"(?:-(?P<pre>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?"
    r"(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?"
)
_NUMBER = re.compile(r"0|[1-9][0-9]*")
ORDERED_RULE = "1-4 dot-separated numbers without leading zeros, then optional -pre.release and +build"

# (release numbers padded to 4, has no pre-release, pre-release identifiers)
VersionKey = tuple[tuple[int, ...], bool, tuple[tuple[int, int, str], ...]]


def version_key(version: str) -> VersionKey | None:
    """The sort key of an ordered version; None for an unordered one."""
    match = _VERSION.fullmatch(version) if isinstance(version, str) else None
    if match is None:
        return None
    numbers = tuple(int(n) for n in match["release"].split("."))
    release = numbers + (0,) * (4 - len(numbers))
    pre = match["pre"]
    if pre is None:
        return release, True, ()
    # SemVer: numeric identifiers order before alphanumeric ones, numbers by value, words by ASCII
    ids = tuple((0, int(p), "") if _NUMBER.fullmatch(p) else (1, 0, p) for p in pre.split("."))
    return release, False, ids


def is_newer(offered: str, current: str | None) -> bool:
    """Whether an agent running `current` may move to `offered`: strictly newer, both ordered.

    An unordered `offered` is never newer; an unordered (or absent) `current` is older than
    every ordered version.
    """
    offered_key = version_key(offered)
    if offered_key is None:
        return False
    current_key = version_key(current) if current else None
    return current_key is None or offered_key > current_key
