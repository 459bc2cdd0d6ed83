"""Which changes of a CloudFormation change set would replace or delete a stateful resource.

Plain functions over `describe-change-set` JSON (the API answer or the AWS CLI's output), so
`byoip deploy-check` and its tests read the same recorded change sets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from contract.stateful import is_stateful


@dataclass(frozen=True)
class Refusal:
    """One stateful resource the change set would replace or delete."""

    logical_id: str
    resource_type: str
    reason: str

    def line(self) -> str:
        """`refused: <LogicalId> (<Type>) <reason>`."""
        return f"refused: {self.logical_id} ({self.resource_type}) {self.reason}"


class BadChangeSet(ValueError):
    """The JSON is not a describe-change-set answer; the message is one line."""


def resource_changes(change_set: Any) -> list[dict[str, Any]]:
    """The ResourceChange entries of a describe-change-set answer (one or more pages)."""
    pages = change_set if isinstance(change_set, list) else [change_set]
    changes: list[dict[str, Any]] = []
    for page in pages:
        if not isinstance(page, dict) or not isinstance(page.get("Changes"), list):
            raise BadChangeSet('not a describe-change-set answer: no "Changes" list')
        for change in page["Changes"]:
            resource = change.get("ResourceChange") if isinstance(change, dict) else None
            if change.get("Type", "Resource") == "Resource" and isinstance(resource, dict):
                changes.append(resource)
    return changes


def _reason(change: dict[str, Any]) -> str | None:
    action = change.get("Action")
    policy = change.get("PolicyAction")
    if action == "Remove":
        if policy == "Retain":
            return "would be removed from the stack (DeletionPolicy Retain: kept, but no longer managed)"
        return "would be deleted (Action: Remove)"
    if action == "Dynamic":
        return (
            "has a change CloudFormation cannot determine before executing (Action: Dynamic), "
            "treated as a replacement"
        )
    if action == "Modify":
        replacement = change.get("Replacement")
        if replacement == "True":
            return "would be replaced (Replacement: True)"
        if replacement == "Conditional":
            return "may be replaced (Replacement: Conditional), treated as a replacement"
    return None  # Add, Import, or Modify without replacement


def refusals(change_set: Any, allowed: set[str] | frozenset[str] = frozenset()) -> list[Refusal]:
    """Every stateful resource the change set replaces or deletes, except the `allowed` logical ids."""
    found = []
    for change in resource_changes(change_set):
        resource_type = change.get("ResourceType", "")
        logical_id = change.get("LogicalResourceId", "?")
        if not is_stateful(resource_type) or logical_id in allowed:
            continue
        reason = _reason(change)
        if reason is not None:
            found.append(Refusal(logical_id, resource_type, reason))
    return found


def dangerous_ids(change_set: Any) -> set[str]:
    """Logical ids of every stateful replacement or deletion, allowed or not."""
    return {refusal.logical_id for refusal in refusals(change_set)}
