"""The docs' generated blocks: lists the code holds, written into the Markdown between markers.

    .venv/bin/python -m tests.docs_blocks            # rewrite every stale block in place
    .venv/bin/python -m tests.docs_blocks --check    # exit 1 and name each stale block

A block is `<!-- generated: NAME -->` ... `<!-- end: NAME -->` in README.md or docs/*.md; its text
between the markers is BLOCKS[NAME]() exactly. The CLI reference walks the `byoip` Typer app as
the CLI builds it (extras mounted through their entry points, as `byoip` mounts them), so a new
command appears here after one run; tests/unit/test_docs_truth.py fails while a block is stale.
"""

from __future__ import annotations

import argparse
import ast
import inspect
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
COMMAND = ".venv/bin/python -m tests.docs_blocks"
_BLOCK = re.compile(r"(<!-- generated: ([\w-]+) -->\n)(.*?)(<!-- end: \2 -->)", re.DOTALL)


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _summary(help_text: str | None) -> str:
    """A command's one-line help: the first paragraph of its docstring, on one line."""
    return _cell(inspect.cleandoc(help_text or "").split("\n\n")[0]) or "-"


def _usage(command: Any) -> str:
    """Its arguments and options; optional ones in brackets (`--help` left out)."""
    parts = []
    for param in command.params:
        if getattr(param, "hidden", False) or param.name == "help":
            continue
        if param.param_type_name == "argument":
            shown = param.name.upper() + ("…" if param.nargs == -1 else "")
        else:
            shown = param.opts[0] if param.is_flag else f"{param.opts[0]} {param.name.upper()}"
        parts.append(shown if param.required else f"[{shown}]")
    return " ".join(parts)


def _leaves(group: Any, path: tuple[str, ...]) -> Iterator[tuple[str, Any]]:
    for name in sorted(group.commands):
        command = group.commands[name]
        if hasattr(command, "commands"):
            yield from _leaves(command, (*path, name))
        else:
            yield " ".join((*path, name)), command


def commands() -> str:
    """Every `byoip` command, the sandbox's included, with its usage and its one-line help."""
    import typer.main

    from automation.cli import app  # mounts the installed extras by entry point, as `byoip` does

    rows = ["| command | what it does |", "|---|---|"]
    for name, command in _leaves(typer.main.get_command(app), ("byoip",)):
        usage = _cell(f"{name} {_usage(command)}".strip())
        rows.append(f"| `{usage}` | {_summary(command.help)} |")
    return "\n".join(rows) + "\n"


def scenarios() -> str:
    """Every game-day scenario of sandbox/gameday/scenarios.py: name, runbook section, what it plays."""
    from sandbox.gameday.scenarios import SCENARIOS

    rows = ["| scenario | runbook section | what happens | must fire |", "|---|---|---|---|"]
    for s in SCENARIOS.values():
        judged = ", ".join(f"`{a}`" for a in s.expected) or "-"
        fired = judged if s.judge_alarms else "reported, not judged"
        rows.append(f"| `{s.name}` | {s.section} | {_cell(s.title)} | {fired} |")
    return f"{len(SCENARIOS)} scenarios:\n\n" + "\n".join(rows) + "\n"


def _module_doc(path: Path) -> str:
    doc = ast.get_docstring(ast.parse(path.read_text())) or ""
    first = inspect.cleandoc(doc).split("\n\n")[0]
    return _cell(first.split(":", 1)[1] if ":" in first.split(" ", 1)[0] else first)


def functions() -> str:
    """Every Lambda function of contract/names.py FUNCTIONS with its handler and reserved concurrency."""
    from contract.names import FUNCTIONS
    from stacks.limits import RESERVED_CONCURRENCY

    rows = ["| function `byoip-<stage>-…` | handler | reserved concurrency | what it is |"]
    rows.append("|---|---|---|---|")
    for short in FUNCTIONS:
        handler = f"lambdas/{short.replace('-', '_')}/handler.py"
        reserved = RESERVED_CONCURRENCY.get(short)
        rows.append(
            f"| `{short}` | `{handler}` | {reserved.reserved if reserved else 'none'} | "
            f"{_module_doc(REPO / handler)} |"
        )
    return f"{len(FUNCTIONS)} functions:\n\n" + "\n".join(rows) + "\n"


def documents() -> str:
    """Every SSM Automation document the stack deploys (contract/names.py AUTOMATIONS), from its builder."""
    import automation.documents as builders
    from contract.names import AUTOMATIONS, RUNBOOK_DOCUMENT

    rows = ["| SSM document | what it does |", "|---|---|"]
    for name in AUTOMATIONS:
        builder = getattr(builders, re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower() + "_document")
        rows.append(f"| `BYOIP-<stage>-{name}` | {_summary(builder.__doc__)} |")
    runbook = _summary(builders.runbook_document.__doc__)
    rows.append(f"| `BYOIP-<stage>-{RUNBOOK_DOCUMENT}` (and `-<part>`) | {runbook} |")
    return f"{len(AUTOMATIONS)} Automation documents, plus the runbook's:\n\n" + "\n".join(rows) + "\n"


def alarms() -> str:
    """Every alarm of the catalog (monitoring/catalog.py) and the SLO composites, as deployed."""
    from monitoring.catalog import ALARMS, COMPOSITE
    from monitoring.slo_catalog import SLO_COMPOSITES
    from monitoring.spec import notifies

    rows = [
        "| alarm `BYOIP-<stage>-…` | severity | runbook | emails (composite / all) | starts | meaning |",
        "|---|---|---|---|---|---|",
    ]
    for spec in (*ALARMS, COMPOSITE, *SLO_COMPOSITES):
        mode = " / ".join("yes" if notifies(spec, m) else "no" for m in ("composite", "all"))
        starts = f"`{spec.automation}`" if getattr(spec, "automation", None) else "-"
        rows.append(
            f"| `{spec.id}` | {spec.severity} | {spec.section} | {mode} | {starts} | {_cell(spec.meaning)} |"
        )
    return "\n".join(rows) + "\n"


def sections() -> str:
    """The runbook's sections (monitoring/sections.py) and the SSM document that carries each."""
    from monitoring.sections import SECTIONS

    rows = ["| section | title | alarm section | SSM document `BYOIP-<stage>-…` |", "|---|---|---|---|"]
    for s in SECTIONS:
        doc = f"Runbook-{s.part}" if s.part else "Runbook"
        rows.append(f"| {s.id} | {_cell(s.title)} | {'yes' if s.alarm_section else 'no'} | `{doc}` |")
    return "\n".join(rows) + "\n"


def quiet_alarms_cost() -> str:
    """The monthly price of the alarms that page on the quiet failure modes (monitoring/failure_modes.py).

    Every alarm a mode pages with, a composite's child alarms with it, each once; a standard-resolution
    metric alarm is billed per metric it reads (a metric-math alarm: each metric of its expression), a
    composite alarm by itself, and each of our own (EMF) metrics they read once as a custom metric;
    AWS's own metrics cost nothing. Prices: benchmarks/cost_model.py CLOUDWATCH_PRICES.
    """
    from benchmarks.cost_model import CLOUDWATCH_PRICES as price
    from monitoring.catalog import ALARMS, COMPOSITE
    from monitoring.failure_modes import FAILURE_MODES
    from monitoring.routing import PAGE_WRAPPER_SUFFIX, page_wrappers
    from monitoring.slo_catalog import SLO_ALARMS, SLO_COMPOSITES
    from monitoring.spec import AllOf, AnyOf, Math, Metric

    units = {a.id: a for a in (*ALARMS, *SLO_ALARMS)}
    wrapped = {w.id.removesuffix(PAGE_WRAPPER_SUFFIX) for w in page_wrappers(ALARMS)}
    composites = {c.id: c for c in (COMPOSITE, *SLO_COMPOSITES)}
    modes: dict[str, list[str]] = {}

    def add(alarm_id: str, mode: str) -> None:
        modes.setdefault(alarm_id, [])
        if mode not in modes[alarm_id]:
            modes[alarm_id].append(mode)
        if alarm_id in composites:
            stack: list[Any] = [composites[alarm_id].rule]
            while stack:
                rule = stack.pop()
                if isinstance(rule, AnyOf | AllOf):
                    stack.extend(rule.rules)
                else:
                    add(rule, mode)

    for mode in FAILURE_MODES:
        for alarm_id in mode.pages:
            add(alarm_id, mode.id)

    def metrics(spec: Any) -> list[Metric]:
        source = spec.source
        return [m for _, m in source.using if isinstance(m, Metric)] if isinstance(source, Math) else [source]

    rows = ["| alarm `BYOIP-<stage>-…` | kind | metrics it reads | $/month | quiet modes it pages on |"]
    rows.append("|---|---|---|---|---|")
    total, custom = 0.0, set()
    for alarm_id in sorted(modes):
        if alarm_id in composites:
            children = [a for a in modes if a != alarm_id and _in_rule(a, composites[alarm_id].rule)]
            kind, cost = "composite", price["composite_alarm"]
            read = "its alarms " + ", ".join(f"`{a}`" for a in sorted(children))
        else:
            spec = units[alarm_id]
            read_metrics = metrics(spec)
            custom.update((m.namespace, m.name) for m in read_metrics if not m.namespace.startswith("AWS/"))
            kind = "metric alarm"
            read = ", ".join(f"`{m.name}`" for m in read_metrics)
            cost = price["alarm_metric"] * len(read_metrics)
        total += cost
        rows.append(f"| `{alarm_id}` | {kind} | {read} | {cost:.2f} | {', '.join(modes[alarm_id])} |")
    wrappers = sorted(wrapped & set(modes))
    metric_cost = price["custom_metric"] * len(custom)
    wrapper_cost = price["composite_alarm"] * len(wrappers)
    names = ", ".join(f"`{name}`" for name in sorted(name for _, name in custom))
    return (
        "\n".join(rows)
        + f"\n\n{len(modes)} alarms: **${total:.2f} a month**. {len(wrappers)} of them page through their"
        + f" one-alarm composite `<Id>{PAGE_WRAPPER_SUFFIX}` (monitoring/routing.py, both ALERT_MODEs):"
        + f" **${wrapper_cost:.2f}**. The {len(custom)} metrics of our own they read ({names}) cost"
        + f" ${price['custom_metric']:.2f} each a month whoever reads them: **${metric_cost:.2f}**."
        + f" Together **${total + wrapper_cost + metric_cost:.2f} a month per stage**."
        + _other_burn_alarms(set(modes), price["alarm_metric"], price["composite_alarm"], metrics)
        + "\n"
    )


def _other_burn_alarms(paging: set[str], per_metric: float, per_composite: float, metrics: Any) -> str:
    """The rest of the alarms of each SLO a mode pages with (its slower burns: tickets), priced alike."""
    from monitoring.slo_catalog import SLO_ALARMS, SLO_COMPOSITES, SLOS

    parts = []
    for slo in SLOS:
        mine = [a for a in SLO_ALARMS if a.id.startswith(slo.id)]
        composites = [c for c in SLO_COMPOSITES if c.id.startswith(slo.id)]
        if not {a.id for a in (*mine, *composites)} & paging:
            continue
        alarms = [a for a in mine if a.id not in paging]
        others = [c for c in composites if c.id not in paging]
        cost = per_metric * sum(len(metrics(a)) for a in alarms) + per_composite * len(others)
        parts.append(f"{slo.id}: {len(alarms)} alarms and {len(others)} composites, ${cost:.2f}")
    if not parts:
        return ""
    return (
        " The other burn alarms of those SLOs (sustained and slow burns, priced alike) add: "
        + "; ".join(parts)
        + "."
    )


def _in_rule(alarm_id: str, rule: Any) -> bool:
    """Whether a composite's rule names the alarm, at any depth."""
    if isinstance(rule, str):
        return rule == alarm_id
    return any(_in_rule(alarm_id, r) for r in rule.rules)


BLOCKS: dict[str, Callable[[], str]] = {
    "commands": commands,
    "scenarios": scenarios,
    "functions": functions,
    "documents": documents,
    "alarms": alarms,
    "sections": sections,
    "quiet-alarms-cost": quiet_alarms_cost,
}


def doc_files() -> list[Path]:
    return [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


def regenerate(text: str, made: dict[str, str]) -> str:
    """`text` with every block's body replaced by its generated text (unknown names: KeyError)."""

    def body(match: re.Match[str]) -> str:
        name = match.group(2)
        if name not in made:
            made[name] = BLOCKS[name]()
        return match.group(1) + made[name] + match.group(4)

    return _BLOCK.sub(body, text)


def block_names(text: str) -> list[str]:
    return [m.group(2) for m in _BLOCK.finditer(text)]


def stale_files() -> dict[Path, str]:
    """Each doc whose blocks differ from the code, with its regenerated text."""
    made: dict[str, str] = {}
    stale = {}
    for path in doc_files():
        text = path.read_text()
        fresh = regenerate(text, made)
        if fresh != text:
            stale[path] = fresh
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report stale blocks (exit 1)")
    args = parser.parse_args(argv)
    stale = stale_files()
    for path, fresh in stale.items():
        rel = path.relative_to(REPO)
        if args.check:
            print(f"stale: {rel} (run {COMMAND})")
        else:
            path.write_text(fresh)
            print(f"rewrote {rel}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
