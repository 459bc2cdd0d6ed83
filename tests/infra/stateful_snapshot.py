"""Regenerate tests/infra/stateful_snapshot.json: `make stateful-snapshot` (a deliberate act).

The snapshot holds, per stage, the logical ids and identity properties of every stateful
resource (contract/stateful.py). tests/infra/test_stateful_snapshot.py compares the synthesized
stacks with it and never writes it.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from contract.stateful import snapshot_differences, stateful_snapshot
from tests.infra.conftest import STAGES, deployable, synthesize

SNAPSHOT = Path(__file__).with_name("stateful_snapshot.json")


def current() -> dict[str, dict]:
    """Stage -> stateful snapshot of its freshly synthesized stack."""
    result = {}
    with tempfile.TemporaryDirectory() as tmp:
        for stage in STAGES:
            synth = synthesize(deployable(stage=stage), Path(tmp) / stage)
            result[stage] = stateful_snapshot(synth.template_dict)
    return result


def main() -> int:
    """Write the snapshot and print what changed against the committed one."""
    fresh = current()
    old = json.loads(SNAPSHOT.read_text()) if SNAPSHOT.exists() else {}
    for stage, snapshot in fresh.items():
        for line in snapshot_differences(old.get(stage, {}), snapshot):
            print(f"{stage}: {line}")
    SNAPSHOT.write_text(json.dumps(fresh, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {SNAPSHOT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
