"""SNS email deliveries of the sandbox, written to a JSON-lines file anyone can read.

Like SNS, it publishes `NumberOfNotificationsDelivered` / `NumberOfNotificationsFailed`
(AWS/SNS, TopicName) per delivery; a delivery fails when the mailbox cannot be written or a
scenario broke it (`broken`, a subscriber bouncing every message).
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

from sandbox.metrics import MetricStore


@dataclass(frozen=True)
class Email:
    time: float  # production epoch seconds
    topic: str
    alarm: str
    state: str
    subject: str
    body: str
    runbook: str
    route: str = ""  # page | ticket: which alert topic it went to (contract.names.alert_route)


class Outbox:
    """Append-only mailbox of what SNS would have emailed: pages (OPS_ALERTS_EMAIL) and tickets
    (OPS_TICKETS_EMAIL), each email with its topic and route."""

    def __init__(self, path: Path, metrics: MetricStore | None = None) -> None:
        self.path = path
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text("")
        self.metrics = metrics
        self.broken = False  # scenarios: every delivery fails (a bouncing or unreachable subscriber)
        self._lock = threading.Lock()
        self.emails: list[Email] = []

    def deliver(self, email: Email) -> bool:
        """Deliver one notification; False (and NumberOfNotificationsFailed) when it cannot be."""
        delivered = False
        with self._lock:
            try:
                if self.broken:
                    raise OSError("the subscriber refused the delivery")
                with self.path.open("a") as fh:
                    fh.write(json.dumps(asdict(email)) + "\n")
                self.emails.append(email)
                delivered = True
            except OSError:
                pass
        if self.metrics is not None:
            name = "NumberOfNotificationsDelivered" if delivered else "NumberOfNotificationsFailed"
            self.metrics.put("AWS/SNS", name, 1, {"TopicName": email.topic.rsplit(":", 1)[-1]}, email.time)
        return delivered

    def read(self) -> list[dict[str, object]]:
        """The emails as written to the file."""
        return [json.loads(line) for line in self.path.read_text().splitlines() if line]

    def pages(self) -> list[Email]:
        """The emails that went to the page topic (what wakes on-call)."""
        with self._lock:
            return [email for email in self.emails if email.route == "page"]
