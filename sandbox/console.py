"""Rich consoles for the sandbox CLI: as wide as the terminal; logs keep URLs and tokens on one line."""

from __future__ import annotations

from typing import IO

from rich.console import Console


def make_console(*, stderr: bool = False, file: IO[str] | None = None) -> Console:
    """The terminal's width on a TTY (or $COLUMNS, else 80, in a log).

    In a log, single-line prints soft-wrap: a URL, path or token is never hard-wrapped, so it
    copies whole; tables fold their text columns to the width instead.
    """
    console = Console(stderr=stderr, file=file)
    if console.is_terminal:
        return console
    return Console(stderr=stderr, file=file, soft_wrap=True)
