"""The handlers' log lines, read as the simulation needs them: failure reasons and outcomes per job."""

from __future__ import annotations

import json
from collections import Counter, defaultdict


class LogSink:
    """Collects the handlers' log lines and EMF documents; remembers each job's failure reasons."""

    def __init__(self) -> None:
        self.failure_reasons: dict[str, set[str]] = defaultdict(set)
        self.outcomes: Counter[str] = Counter()  # "held:agent_offline", "failed:delivery_410", …

    def write(self, text: str) -> int:
        for line in text.splitlines():
            message = _message(line)
            word, _, rest = message.partition(" ")
            fields = dict(p.split("=", 1) for p in rest.split() if "=" in p)
            if word == "batch_item_failed":
                self.failure_reasons[fields.get("jobId", "-")].add(fields.get("reason", ""))
                self.outcomes[f"failed:{fields.get('reason')}"] += 1
            elif word in ("job_held", "job_skipped"):
                self.outcomes[f"{word[4:]}:{fields.get('reason')}"] += 1
            elif word == "lease_reaper":
                self.outcomes.update({f"reaped:{k}": int(v) for k, v in fields.items() if v != "0"})
        return len(text)

    def flush(self) -> None:
        pass


def _message(line: str) -> str:
    try:
        doc = json.loads(line)
    except ValueError:
        return ""
    return str(doc.get("message", "")) if isinstance(doc, dict) else ""
