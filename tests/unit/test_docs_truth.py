"""The docs say what the code does: generated lists are fresh, counts in prose are true, links stay
inside the repo and land on a heading, and the README front page stays short."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from contract.names import AUTOMATIONS, FUNCTIONS
from tests import docs_blocks
from tests.docs_blocks import COMMAND, REPO

README_LIMIT = 10 * 1024
# Where each generated list lives: a block cannot be dropped to make the test pass.
EXPECTED_BLOCKS = {
    "docs/cli.md": {"commands", "scenarios"},
    "docs/monitoring.md": {"alarms", "sections", "documents"},
    "docs/operations.md": {"functions"},
}
NUMBERS = dict(
    zip(
        "one two three four five six seven eight nine ten eleven twelve".split(),
        range(1, 13),
        strict=True,
    )
)
_COUNT = r"\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|\d+)"
_LINK = re.compile(r"\]\(([^)\s]+)\)")


def _number(word: str) -> int:
    return int(word) if word.isdigit() else NUMBERS[word.lower()]


def test_generated_blocks_match_the_code() -> None:
    stale = docs_blocks.stale_files()
    assert not stale, (
        f"stale generated blocks in {', '.join(str(p.relative_to(REPO)) for p in stale)}: run {COMMAND}"
    )


def test_every_list_is_generated_where_its_readers_look() -> None:
    for name, blocks in EXPECTED_BLOCKS.items():
        assert set(docs_blocks.block_names((REPO / name).read_text())) >= blocks, name


def test_the_cli_reference_names_every_command_and_the_gameday_every_scenario() -> None:
    from sandbox.gameday.scenarios import SCENARIOS

    cli = (REPO / "docs/cli.md").read_text()
    for scenario in SCENARIOS:
        assert f"| `{scenario}` |" in cli, scenario
    for command in ("byoip triage", "byoip gameday", "byoip sandbox up", "byoip dlq sample"):
        assert f"| `{command}" in cli, command


def test_gameday_help_lists_every_scenario_of_the_registry() -> None:
    from automation.cli import app
    from sandbox.gameday.scenarios import SCENARIOS

    done = CliRunner().invoke(app, ["gameday", "--help"], env={"COLUMNS": "400"})
    assert done.exit_code == 0, done.output
    text = " ".join(done.output.replace("│", " ").split())
    assert f"One of the {len(SCENARIOS)} scenarios" in text
    assert ", ".join(SCENARIOS) in text


def test_counts_in_prose_are_the_code_s() -> None:
    """ "Seven functions", "four benchmarks": each count where the docs state one is true."""
    bench = re.search(r"^bench:.*?\n((?:\t.*\n)+)", (REPO / "Makefile").read_text(), re.M)
    assert bench is not None
    truth = {
        "functions": len(FUNCTIONS),
        "handlers": len(FUNCTIONS),
        "benchmarks": bench.group(1).count("benchmarks/"),
    }
    pattern = re.compile(_COUNT + r" (?:Lambda )?(functions|handlers|benchmarks)\b", re.I)
    for name in ("README.md", "lambdas/README.md", "docs/operations.md", "docs/cli.md", "Makefile"):
        for count, what in pattern.findall((REPO / name).read_text()):
            true = truth[what.lower()]
            assert _number(count) == true, f"{name}: {count} {what}, the code has {true}"


def test_every_make_target_is_in_the_cli_reference() -> None:
    phony = re.search(r"^\.PHONY: (.+)$", (REPO / "Makefile").read_text(), re.M)
    assert phony is not None
    cli = (REPO / "docs/cli.md").read_text()
    for target in phony.group(1).split():
        assert f"make {target}" in cli, target


def test_every_ssm_document_is_named_in_the_contracts() -> None:
    lines = (REPO / "docs/contracts.md").read_text().splitlines()
    row = next(line for line in lines if "| SSM documents |" in line)
    for automation in AUTOMATIONS:
        assert f"BYOIP-<s>-{automation}`" in row, automation


def _slug(heading: str) -> str:
    """GitHub's anchor for a Markdown heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    text = path.read_text()
    found = {_slug(m.group(1)) for m in re.finditer(r"^#+ (.+)$", text, re.M)}
    return found | set(re.findall(r'<a id="([^"]+)"', text))


def test_links_stay_in_the_repo_and_land_on_a_heading() -> None:
    for path in docs_blocks.doc_files() + [REPO / "lambdas/README.md"]:
        text = path.read_text()
        assert "DESIGN.md" not in text, f"{path.relative_to(REPO)}: names a design file outside the repo"
        for target in _LINK.findall(text):
            if target.startswith(("http://", "https://", "mailto:")):
                continue
            file_part, _, anchor = target.partition("#")
            linked = (path.parent / file_part).resolve() if file_part else path
            where = f"{path.relative_to(REPO)} -> {target}"
            assert linked.is_relative_to(REPO), f"{where}: outside the repo"
            assert linked.exists(), f"{where}: no such file"
            if anchor and linked.suffix == ".md":
                assert anchor in _anchors(linked), f"{where}: no such heading"


def test_the_readme_is_a_front_page() -> None:
    text = (REPO / "README.md").read_text()
    assert len(text) <= README_LIMIT
    assert len(text.encode()) <= README_LIMIT
    for command in ("make run", "make test"):
        assert f"\n{command} " in text, command
    assert "make test" in (REPO / ".ci/run").read_text()
    for target in ("run:", "test:"):
        assert re.search(rf"^{target} install$", (REPO / "Makefile").read_text(), re.M), target
    for guide in ("docs/operations.md", "docs/monitoring.md", "docs/cli.md", "docs/architecture.md"):
        assert f"]({guide}" in text, guide
