"""Rich consoles for the sandbox CLI: logs (not a TTY) keep URLs, paths and tokens on one line."""

from __future__ import annotations

from typing import IO

from rich.console import Console

LOG_WIDTH = 250  # wide enough for a timeline row with its runbook link


def make_console(*, stderr: bool = False, file: IO[str] | None = None) -> Console:
    """The terminal's width on a TTY; otherwise a wide console that never hard-wraps at 80."""
    console = Console(stderr=stderr, file=file)
    if console.is_terminal:
        return console
    return Console(stderr=stderr, file=file, width=LOG_WIDTH, soft_wrap=True)
