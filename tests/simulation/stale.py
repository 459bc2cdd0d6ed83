"""Stale reads: moto always answers with the newest item; DynamoDB may not, unless asked to.

A read without `ConsistentRead` (GetItem, BatchGetItem, a Query or a Scan; a global secondary
index is always read so) may return an item as it was before its last write. `Versions` keeps,
for every item, the version before its latest successful write, from every DynamoDB client of
the world (the handlers' and the operators'). A `stale_read` fault rewrites the answer of one
eventually consistent read with those versions: an item written since comes back as it was (not
at all if it was just created; a GetItem of an item just deleted finds it still there).

On a global secondary index an older version is returned only while it has the index key the
current one has (else it is left out: not in the index yet). Not modelled: an item that just left
an index still showing up in it.
"""

from __future__ import annotations

import json
from typing import Any

from moto.dynamodb.models import dynamodb_backends

from tests.lambdas.helpers import ACCOUNT, REGION

WRITES = ("PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem")
READS = ("GetItem", "BatchGetItem", "Query", "Scan")
Item = dict[str, Any]


class Versions:
    """The version of every item before its latest write (None: the write created it)."""

    def __init__(self) -> None:
        self.previous: dict[tuple[str, str], Item | None] = {}
        self.changes = 0  # items changed by a write, over the schedule

    def attach(self, client: Any) -> None:
        client.meta.events.register_first("before-parameter-build.dynamodb.*", keep_params)
        client.meta.events.register("before-call.dynamodb.*", self._before)
        client.meta.events.register("after-call.dynamodb.*", self._after)

    # ---- recording writes --------------------------------------------------------------------

    def _before(self, model: Any, context: dict[str, Any], **_: Any) -> None:
        if model.name in WRITES:
            keys = _written_keys(model.name, context["sim_params"])
            context["sim_versions"] = {k: _current(*k) for k in keys}

    def _after(self, http_response: Any, context: dict[str, Any], **_: Any) -> None:
        before = context.pop("sim_versions", None)
        if not before or http_response.status_code >= 300:
            return
        for key, old in before.items():
            if _current(*key) != old:
                self.previous[key] = old
                self.changes += 1

    # ---- answering stale ---------------------------------------------------------------------

    def stale(self, op: str, params: dict[str, Any], parsed: dict[str, Any]) -> bool:
        """Rewrite an eventually consistent read's answer with older versions; True if it changed."""
        if not eventual(op, params):
            return False
        if op == "GetItem":
            return self._swap_one(parsed, _key_id(params["TableName"], params["Key"]))
        if op == "BatchGetItem":
            changed = False
            for table, request in params["RequestItems"].items():
                if not request.get("ConsistentRead"):
                    found = parsed.setdefault("Responses", {}).setdefault(table, [])
                    changed |= self._swap_many(table, found, [_key_id(table, k) for k in request["Keys"]])
            return changed
        return self._swap_listed(params, parsed)

    def _swap_one(self, parsed: dict[str, Any], key: tuple[str, str]) -> bool:
        if key not in self.previous or self.previous[key] == parsed.get("Item"):
            return False
        old = self.previous[key]
        if old is None:
            parsed.pop("Item", None)
        else:
            parsed["Item"] = old
        return True

    def _swap_many(self, table: str, found: list[Item], keys: list[tuple[str, str]]) -> bool:
        by_key = {_key_id(table, _key_of(table, item)): item for item in found}
        changed = False
        for key in keys:
            if key in self.previous and self.previous[key] != by_key.get(key):
                changed = True
                by_key[key] = self.previous[key]  # type: ignore[assignment]
        found[:] = [item for item in by_key.values() if item is not None]
        return changed

    def _swap_listed(self, params: dict[str, Any], parsed: dict[str, Any]) -> bool:
        table = params["TableName"]
        index_keys = _index_key_names(table, params.get("IndexName"))
        items, changed = [], False
        for item in parsed.get("Items", []):
            key = _key_id(table, _key_of(table, item))
            old = self.previous.get(key, item)
            if old is not None and any(old.get(a) != item.get(a) for a in index_keys):
                old = None  # the older version is not under this index key
            changed |= old != item
            if old is not None:
                items.append(old)
        parsed["Items"] = items
        parsed["Count"] = len(items)
        return changed


def keep_params(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    """before-call sees the serialized request; keep the operation's own parameters for it."""
    context["sim_params"] = dict(params)


def eventual(op: str, params: dict[str, Any]) -> bool:
    """Whether this DynamoDB read may be answered from an older version of its items."""
    if op == "GetItem":
        return not params.get("ConsistentRead")
    if op == "BatchGetItem":
        return any(not r.get("ConsistentRead") for r in params.get("RequestItems", {}).values())
    return op in ("Query", "Scan") and bool(params.get("IndexName") or not params.get("ConsistentRead"))


def _backend() -> Any:
    return dynamodb_backends[ACCOUNT][REGION]


def _key_names(table: str) -> list[str]:
    t = _backend().get_table(table)
    return [t.hash_key_attr] + ([t.range_key_attr] if t.range_key_attr else [])


def _index_key_names(table: str, index: str | None) -> list[str]:
    if not index:
        return []
    t = _backend().get_table(table)
    return [k["AttributeName"] for i in t.global_indexes if i.name == index for k in i.schema]


def _key_of(table: str, item: Item) -> Item:
    return {name: item[name] for name in _key_names(table)}


def _key_id(table: str, key: Item) -> tuple[str, str]:
    return table, json.dumps(key, sort_keys=True)


def _current(table: str, key_json: str) -> Item | None:
    item = _backend().get_item(table, json.loads(key_json))
    return None if item is None else item.to_json()["Attributes"]


def _written_keys(op: str, params: dict[str, Any]) -> list[tuple[str, str]]:
    if op in ("PutItem", "UpdateItem", "DeleteItem"):
        table = params["TableName"]
        return [_key_id(table, params["Key"] if "Key" in params else _key_of(table, params["Item"]))]
    if op == "TransactWriteItems":
        keys = []
        for entry in params["TransactItems"]:
            kind, body = next(iter(entry.items()))
            if kind != "ConditionCheck":
                table = body["TableName"]
                keys.append(_key_id(table, body["Key"] if "Key" in body else _key_of(table, body["Item"])))
        return keys
    keys = []
    for table, requests in params.get("RequestItems", {}).items():  # BatchWriteItem
        for request in requests:
            body = request.get("PutRequest", {}).get("Item") or request.get("DeleteRequest", {}).get("Key")
            keys.append(_key_id(table, _key_of(table, body)))
    return keys
