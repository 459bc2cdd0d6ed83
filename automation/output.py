"""Console output of the CLI: Rich on stdout, one-line errors on stderr."""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console

console = Console(highlight=False, soft_wrap=True, emoji=False)
errors = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)

USAGE = 2  # bad input: wrong flag values, missing confirmation
REFUSED = 1  # valid input, but the operation cannot or did not succeed


def fail(message: str, code: int = USAGE) -> NoReturn:
    """Print `error: <message>` as one line and exit with `code`."""
    errors.print(f"error: {message}", markup=False)
    raise typer.Exit(code)
