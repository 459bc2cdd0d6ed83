"""One performance patch to moto's DynamoDB, applied only inside the sandbox.

moto's TransactWriteItems deep-copies every table it touches before running, to roll back
on failure: O(table size) per transaction. The dispatcher and ws-message use a transaction
per assignment and per result, so a game day slowed down as JobsTable grew (a 10-record
batch took ~3 s once the table held a few hundred jobs). The patched version backs up
the same thing — the table as it was — but deep-copies only the items the transaction
names; the others are shared with the live table, which is safe because the sandbox
serializes DynamoDB requests (see moto_server.py), so nothing else changes them meanwhile.
"""

from __future__ import annotations

import copy
import types
from collections import defaultdict
from typing import Any

from moto.dynamodb import models as ddb_models
from moto.dynamodb.models.table import Table

_original = ddb_models.DynamoDBBackend.transact_write_items
_applied = False


def _named_keys(transact_items: list[dict[str, Any]]) -> set[str]:
    """Hash-key values (as strings) of every item a transaction names."""
    keys: set[str] = set()
    for item in transact_items:
        _, op = next(iter(item.items()))
        attrs = op.get("Key") or op.get("Item") or {}
        for value in attrs.values():
            if isinstance(value, dict):
                keys.update(str(v) for v in value.values())
    return keys


def _snapshot(table: Table, keys: set[str]) -> Table:
    clone = copy.copy(table)
    clone.items = defaultdict(dict)  # type: ignore[assignment]
    for hash_key, item in table.items.items():
        touched = str(getattr(hash_key, "value", hash_key)) in keys
        if touched:
            clone.items[hash_key] = copy.deepcopy(item)
        else:
            clone.items[hash_key] = dict(item) if isinstance(item, dict) else item
    return clone


def _transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
    keys = _named_keys(transact_items)
    shim = types.SimpleNamespace(
        deepcopy=lambda obj, *a: _snapshot(obj, keys) if isinstance(obj, Table) else copy.deepcopy(obj, *a)
    )
    ddb_models.copy = shim  # type: ignore[attr-defined]
    try:
        _original(self, transact_items)
    finally:
        ddb_models.copy = copy  # type: ignore[attr-defined]


def apply() -> None:
    """Install the patch once per process."""
    global _applied
    if not _applied:
        ddb_models.DynamoDBBackend.transact_write_items = _transact_write_items  # type: ignore[method-assign]
        _applied = True
