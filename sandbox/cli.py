"""`byoip sandbox …` and `byoip gameday`: the local sandbox."""

import typer

app = typer.Typer(help="Local sandbox: the whole system on one machine.", no_args_is_help=True)
