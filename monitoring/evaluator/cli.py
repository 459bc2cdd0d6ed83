"""`byoip alarms …`: run alarm test files against the synthesized template."""

import typer

app = typer.Typer(help="Offline CloudWatch alarm evaluation and alarm tests.", no_args_is_help=True)
