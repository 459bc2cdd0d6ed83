"""Render the triage runbook of one stage from the Jinja templates in runbooks/templates/."""

from __future__ import annotations

from pathlib import Path

import jinja2

from contract.config import Config
from contract.names import DLQ, JOBS, ORIGINAL_STACK_NAME
from monitoring.sections import PARTS
from runbooks.context import build_context

TEMPLATES = Path(__file__).parent / "templates"
ENTRY = "runbook.md.j2"
MIGRATION = "migration.md.j2"


def environment() -> jinja2.Environment:
    """Strict Jinja environment: an unknown name fails the render instead of printing nothing."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # Markdown, not HTML
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_runbook(config: Config, *, region: str, account: str, part: str | None = None) -> str:
    """The stage's runbook as Markdown, with its real names and console links; with `part`, only that
    part (the content of one SSM document: monitoring/sections.py PARTS)."""
    context = build_context(config, region=region, account=account, part=part)
    return environment().get_template(ENTRY).render(**context)


def render_runbook_parts(config: Config, *, region: str, account: str) -> dict[str, str]:
    """Every part of the deployed runbook: part -> Markdown (each carried by its own SSM document)."""
    return {part: render_runbook(config, region=region, account=account, part=part) for part in PARTS}


def write_runbook(config: Config, out_dir: Path, *, region: str, account: str) -> Path:
    """Render into `out_dir/<stage>/runbook.md` and return the path."""
    path = out_dir / config.names.runbook_path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_runbook(config, region=region, account=account), encoding="utf-8")
    return path


def render_migration(config: Config, *, region: str, account: str) -> str:
    """The cut-over runbook from the original stack to this stage's stack, as Markdown."""
    return (
        environment()
        .get_template(MIGRATION)
        .render(
            stage=config.stage,
            region=region,
            account=account,
            prefix=config.prefix,
            original_stack=ORIGINAL_STACK_NAME,
            new_stack=config.stack_name,
            jobs_queue=config.names.queue(JOBS),
            dlq=config.names.queue(DLQ),
        )
    )
