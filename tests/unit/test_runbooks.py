"""The rendered runbook: one section per alarm, every section used, every link target present."""

import re
from pathlib import Path

import pytest

from contract.config import Config
from monitoring.catalog import ALARMS, COMPOSITE, notifies
from monitoring.routing import route
from monitoring.sections import PARTS, SECTIONS, runbook_link
from monitoring.slo_catalog import SLO_ALARMS, SLO_COMPOSITES
from monitoring.watched import FUNCTION_ALARMS
from runbooks.render import TEMPLATES, render_runbook, render_runbook_parts, write_runbook

CATALOG_ALARMS = (*ALARMS, COMPOSITE)
# Alarms with a full page (Meaning / Impact / Diagnosis / Mitigation / Verify); the SLO burn
# windows share their SLO section's text (tests/unit/test_slo_runbook.py).
PAGED_ALARMS = (*CATALOG_ALARMS, *SLO_COMPOSITES)
ALL_ALARMS = (*PAGED_ALARMS, *SLO_ALARMS)
BASE_URL = "https://runbooks.example.com/byoip"
CONFIGS = [
    Config(stage=stage, alert_mode=mode, runbook_base_url=base)
    for stage in ("prod", "staging", "local")
    for mode in ("composite", "all")
    for base in (None, BASE_URL)
]
ANCHOR = re.compile(r'<a id="([^"]+)"></a>')
INTERNAL_LINK = re.compile(r"\]\(#([^)]+)\)")


@pytest.fixture(
    scope="module", params=CONFIGS, ids=lambda c: f"{c.stage}-{c.alert_mode}-{bool(c.runbook_base_url)}"
)
def rendered(request):
    config = request.param
    return config, render_runbook(config, region="eu-west-1", account="111122223333")


def anchors(markdown):
    return ANCHOR.findall(markdown)


def section_text(markdown, section_id):
    """The Markdown between a section's anchor and the next section's anchor."""
    order = [s.anchor for s in SECTIONS]
    section = next(s for s in SECTIONS if s.id == section_id)
    start = markdown.index(f'<a id="{section.anchor}">')
    following = order[order.index(section.anchor) + 1 :]
    ends = [markdown.index(f'<a id="{a}">') for a in following] + [markdown.index('<a id="queries">')]
    return markdown[start : min(ends)]


def test_every_alarm_has_its_page_inside_its_section(rendered):
    config, markdown = rendered
    for spec in PAGED_ALARMS:
        text = section_text(markdown, spec.section)
        name = config.names.alarm(spec.id)
        assert f'<a id="alarm-{spec.id.lower()}"></a>\n### Alarm `{name}`' in text, spec.id
        page = text[text.index(f"### Alarm `{name}`") :]
        page = page[: page.find("### Alarm", 1)] if "### Alarm" in page[1:] else page
        for heading in (
            "**Meaning.** " + spec.meaning,
            "**Impact.**",
            "**Diagnosis.**",
            "**Mitigation.**",
            "**Verify.**",
        ):
            assert heading in page, (spec.id, heading)


def test_every_alarm_section_has_an_alarm():
    used = {spec.section for spec in ALL_ALARMS}
    assert {s.id for s in SECTIONS if s.alarm_section} <= used
    assert used <= {s.id for s in SECTIONS}


def test_every_link_target_exists(rendered):
    config, markdown = rendered
    present = set(anchors(markdown))
    assert len(present) == len(anchors(markdown)), "duplicate anchors"
    assert set(INTERNAL_LINK.findall(markdown)) <= present
    for section in SECTIONS:
        assert section.anchor in present
        link = runbook_link(config, section.id, region="eu-west-1")
        if config.runbook_base_url:
            assert link == f"{BASE_URL}/{config.stage}/runbook.md#{section.anchor}"
        else:
            # the SSM document of the section's part of the runbook (monitoring/sections.py PARTS)
            document = config.names.runbook_part(section.part)
            assert f"/documents/{document}/description" in link


def test_sections_keep_the_spec_order_and_titles(rendered):
    _, markdown = rendered
    headings = re.findall(r"^## (.+)$", markdown, flags=re.M)
    titles = [s.title for s in SECTIONS]
    assert [h for h in headings if h in titles] == titles


def test_real_names_and_no_template_leftovers(rendered):
    config, markdown = rendered
    s = config.stage
    for expected in (
        f"arn:aws:sqs:eu-west-1:111122223333:byoip-{s}-jobs-dlq",
        f"arn:aws:sqs:eu-west-1:111122223333:byoip-{s}-jobs\n",
        f"/aws/lambda/byoip-{s}-dispatcher-sqs",
        f"#dashboards/dashboard/BYOIP-Ops-{s})",
        f"#dashboards/dashboard/ByoIpRunner-{s})",
        f"BYOIP-{s}/error-types-by-reason",
        f"--document-name BYOIP-{s}-RedriveDlq --parameters MaxPerSecond=50",
        "--max-pps 50 \\\n  --wait \\\n  --yes",
        "| parse @message /reason=(?<reason>\\w+)/",
    ):
        assert expected in markdown, expected
    assert "{{" not in markdown and "{%" not in markdown and "<region>" not in markdown


def test_each_alarm_states_its_email_routing_in_both_modes(rendered):
    config, markdown = rendered
    for spec in ALL_ALARMS:
        page = markdown[markdown.index(f"### Alarm `{config.names.alarm(spec.id)}`") :]
        routing = page.split("\n")[2].split(" · ")[1]
        word = {True: "yes", False: "no (dashboard only)"}
        assert routing == (
            f"{route(spec)}s: "
            f"`ALERT_MODE=composite` {word[notifies(spec, 'composite')]}, "
            f"`ALERT_MODE=all` {word[notifies(spec, 'all')]}"
        ), spec.id


def test_the_runbook_is_the_same_in_both_alert_modes():
    # The stack deploys it as a document; ALERT_MODE must change alert routing only, not the backend.
    composite, all_mode = (
        render_runbook(Config(stage="prod", alert_mode=mode), region="us-east-1", account="123456789012")
        for mode in ("composite", "all")
    )
    assert composite == all_mode


def test_remediation_names_its_automation(rendered):
    config, markdown = rendered
    page = section_text(markdown, "A")
    assert f"--document-name BYOIP-{config.stage}-GuardedRedrive" in page
    assert f"systems-manager/automation/execute/BYOIP-{config.stage}-RedriveDlq?region=eu-west-1" in page


def test_logs_insights_link_encodes_the_query():
    markdown = render_runbook(Config(stage="prod"), region="us-east-1", account="123456789012")
    assert (
        "editorString~'fields*20*40timestamp*2c*20*40message*0a*7c*20filter*20*40message*20like*20*2fstatus*3d410*2f"
        in markdown
    )
    assert "source~(~'*2faws*2flambda*2fbyoip-prod-dispatcher-sqs))" in markdown


def test_templates_match_the_catalog_exactly():
    # The generated Errors/Throttles alarms share watched/function.md.j2 (monitoring/watched.py).
    assert {p.stem.removesuffix(".md") for p in (TEMPLATES / "alarms").iterdir()} == {
        s.id for s in CATALOG_ALARMS if s.id not in FUNCTION_ALARMS
    }
    assert {p.stem.removesuffix(".md") for p in (TEMPLATES / "sections").iterdir()} == {
        s.id for s in SECTIONS
    }


def test_each_part_fits_in_an_ssm_document_and_the_parts_hold_every_section_once():
    # SSM documents are limited to 64 KB; each part of the runbook travels as one document's description.
    for config in CONFIGS:
        parts = render_runbook_parts(config, region="ap-southeast-2", account="123456789012")
        assert list(parts) == list(PARTS)
        for part, markdown in parts.items():
            assert len(markdown.encode()) < 60_000, f"part {part!r}: {len(markdown.encode())} bytes"
        for section in SECTIONS:
            holding = [p for p, markdown in parts.items() if f'<a id="{section.anchor}"></a>' in markdown]
            assert holding == [section.part], section.id
        whole = render_runbook(config, region="ap-southeast-2", account="123456789012")
        assert all(f'<a id="{s.anchor}"></a>' in whole for s in SECTIONS)


def test_a_section_in_another_part_links_to_that_parts_document():
    config = Config(stage="prod")
    main = render_runbook(config, region="eu-west-1", account="1", part="")
    slo_doc = config.names.runbook_part("SLO")
    assert slo_doc == "BYOIP-prod-Runbook-SLO"
    (s1,) = [s for s in SECTIONS if s.id == "S1"]
    assert (
        f"[{s1.title}](https://eu-west-1.console.aws.amazon.com/systems-manager/documents/{slo_doc}" in main
    )
    assert runbook_link(config, "S1", region="eu-west-1").endswith(f"/{slo_doc}/description?region=eu-west-1")
    assert runbook_link(config, "A", region="eu-west-1").endswith(
        "/BYOIP-prod-Runbook/description?region=eu-west-1"
    )
    slo = render_runbook(config, region="eu-west-1", account="1", part="SLO")
    assert slo.startswith("# BYO-IP triage runbook: stage `prod`, SLO sections")
    assert '<a id="a-dlq-not-empty"></a>' not in slo and '<a id="what-breaks"></a>' not in slo


def test_write_runbook_uses_the_layout_runbook_links_expect(tmp_path: Path):
    config = Config(stage="staging", runbook_base_url=BASE_URL)
    path = write_runbook(config, tmp_path / "runbooks", region="eu-west-1", account="1")
    assert path == tmp_path / "runbooks" / "staging" / "runbook.md"
    link = runbook_link(config, "A", region="eu-west-1")
    assert link.removeprefix(BASE_URL + "/").split("#")[0] == str(path.relative_to(tmp_path / "runbooks"))
    assert path.read_text().startswith("# BYO-IP triage runbook: stage `staging`")
