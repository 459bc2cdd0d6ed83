"""Performance patches to moto, applied only inside the sandbox's moto server process.

Each one keeps moto's answers and removes a cost that grows with the sandbox's load
(measured with py-spy on `benchmarks/sandbox_bench.py`; docs/sandbox-performance.md):

1. TransactWriteItems snapshots only the items it names (below).
2. SQS ReceiveMessage checked each message's retention by computing *every* queue attribute,
   ApproximateNumberOfMessages included, which walks the whole queue: O(n²) per receive on a
   queue of n messages (21 % of moto's CPU in the benchmark). The patch reads the queue's
   MessageRetentionPeriod directly.
3. SQS's clock (`unix_time`, `unix_time_millis`, called twice per message per receive for
   visibility and delay) built two datetimes per call; the patch reads `time.time()`, the
   same instant without them (another ~20 %).
4. DynamoDB parses an UpdateExpression two or three times per write; the parse depends on the
   expression's text only and moto's validators deep-copy the tree before changing it, so
   the parse is cached by text, and the validators' copy of the tree is made with pickle
   (the same object graph as deepcopy, 2.5x faster on these trees).
5. SQS SendMessageBatch appends its messages one by one; the patch holds the queue's own
   message lock (re-entrant) for the whole batch, and the sandbox's queue listing
   (moto_process.queue_messages) takes the same lock, so a metric sample sees a batch whole
   or not at all. Not a speed-up: it makes "seed N messages at once" mean at once, which the
   poison-pill game day's DLQ picture relies on.
6. DynamoDB's update validation walks the expression tree with ten processors, twice for a new
   item, asking `isinstance` against ABCs at every node (measured: 6.5 ms of moto CPU for the
   dispatcher's assignment write, 85 % of it in the walks). The patch answers "is this a node,
   and does this processor want it" once per (processor class, node class): both depend on the
   classes only. And the three validators that read only the expression, its names and the
   table's keys (action counts, overlapping paths, key attributes; the action count is
   quadratic in the number of actions) run once per such combination: a combination that
   validated before is valid again. Values and the item are still checked on every write.

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
import functools
import os
import pickle
import time
import types
from collections import defaultdict
from typing import Any

from moto.core import utils as moto_utils
from moto.dynamodb import models as ddb_models
from moto.dynamodb.models.table import Table
from moto.dynamodb.parsing import ast_nodes as ddb_ast
from moto.dynamodb.parsing import validators as ddb_validators
from moto.dynamodb.parsing.expressions import UpdateExpressionParser
from moto.sqs import models as sqs_models

_original = ddb_models.DynamoDBBackend.transact_write_items
_original_make = UpdateExpressionParser.make
_original_batch = sqs_models.SQSBackend.send_message_batch
_original_validator_init = ddb_validators.UpdateExpressionValidator.__init__
_original_validate = ddb_validators.UpdateExpressionValidator.validate
# The validators whose verdict depends on the expression, its names and the table's keys only.
EXPRESSION_ONLY = (
    ddb_validators.ActionCountValidator,
    ddb_validators.OverlappingPathsValidator,
    ddb_validators.UpdateHashRangeKeyValidator,
)
_NODE_KINDS: dict[tuple[type, type], tuple[bool, bool]] = {}
_VALID_SHAPES: dict[tuple[Any, ...], Any] = {}
_VALID_SHAPES_MAX = 4096
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


def retention_ok(self: Any, queue_name: str, message: Any) -> bool:
    """moto's is_message_valid_based_on_retention_period without computing every attribute."""
    retention_s = int(self.get_queue(queue_name).message_retention_period)
    return retention_s + message.sent_timestamp / 1000 > unix_time()


def unix_time(dt: Any = None) -> float:
    """moto's unix_time: seconds since the epoch of a naive UTC datetime, or of now."""
    return time.time() if dt is None else moto_utils.unix_time(dt)


def unix_time_millis(dt: Any = None) -> float:
    return unix_time(dt) * 1000.0


def send_message_batch(self: Any, queue_name: str, entries: dict[str, dict[str, Any]]) -> Any:
    """moto's SendMessageBatch with the queue's message lock held throughout (patch 5)."""
    with self.get_queue(queue_name)._messages_lock:
        return _original_batch(self, queue_name, entries)


def traverse_node_recursively(self: Any, node: Any, child_id: int = -1) -> Any:
    """moto's DepthFirstTraverser.traverse_node_recursively with its two class checks cached (patch 6)."""
    kinds = _NODE_KINDS.get((type(self), type(node)))
    if kinds is None:
        is_node = isinstance(node, ddb_ast.Node)
        kinds = (is_node, is_node and isinstance(node, self.nodes_to_be_processed()))
        _NODE_KINDS[(type(self), type(node))] = kinds
    is_node, wanted = kinds
    if is_node:
        parent_node = node.parent
        if node.children is not None:
            for i, child_node in enumerate(node.children):
                self.pre_processing_of_child(node, i)
                self.traverse_node_recursively(child_node, i)
        if wanted:
            node = self.process(node)
            node.parent = parent_node
            if parent_node:
                parent_node.children[child_id] = node
    return node


def _shape(expression: Any, names: dict[str, str] | None, table: Any) -> tuple[Any, ...]:
    return (id(expression), tuple(sorted((names or {}).items())), tuple(table.table_key_attrs))


def validator_init(
    self: Any,
    expression: Any,
    expression_attribute_names: Any,
    expression_attribute_values: Any,
    item: Any,
    table: Any,
) -> None:
    """UpdateExpressionValidator without the expression-only validators for a shape seen valid (patch 6)."""
    _original_validator_init(
        self, expression, expression_attribute_names, expression_attribute_values, item, table
    )
    shape = _shape(expression, expression_attribute_names, table)
    if _VALID_SHAPES.get(shape) is expression:  # the parse is cached by text: the same tree object
        self.processors = [p for p in self.processors if not isinstance(p, EXPRESSION_ONLY)]
        self._sandbox_shape = None
    else:
        self._sandbox_shape = (shape, expression)


def validate(self: Any) -> Any:
    """moto's validate; a shape that passed is remembered (patch 6)."""
    node = _original_validate(self)
    seen = getattr(self, "_sandbox_shape", None)
    if seen is not None:
        if len(_VALID_SHAPES) >= _VALID_SHAPES_MAX:
            _VALID_SHAPES.clear()
        shape, expression = seen
        _VALID_SHAPES[shape] = expression  # holds the tree, so its id is not reused meanwhile
    return node


@functools.lru_cache(maxsize=512)
def _parse_update(expression: str) -> Any:
    return _original_make(expression)


def tree_copy(obj: Any, memo: Any = None) -> Any:
    """deepcopy of an expression tree through pickle (deepcopy for anything pickle refuses)."""
    try:
        return pickle.loads(pickle.dumps(obj, pickle.HIGHEST_PROTOCOL))
    except (pickle.PicklingError, TypeError, AttributeError):
        return copy.deepcopy(obj, memo)


# SANDBOX_MOTO_PATCHES=off runs plain moto (slower): to rule the patches out when moto answers
# something unexpected, and to measure them (benchmarks/moto_calls.py).
PATCHES_ENV = "SANDBOX_MOTO_PATCHES"


def apply() -> None:
    """Install the patches once per process (none when SANDBOX_MOTO_PATCHES=off)."""
    global _applied
    if os.environ.get(PATCHES_ENV, "on") == "off":
        return
    if not _applied:
        ddb_models.DynamoDBBackend.transact_write_items = _transact_write_items  # type: ignore[method-assign]
        sqs_models.SQSBackend.is_message_valid_based_on_retention_period = retention_ok  # type: ignore[method-assign]
        sqs_models.unix_time = unix_time
        sqs_models.SQSBackend.send_message_batch = send_message_batch  # type: ignore[method-assign]
        sqs_models.unix_time_millis = unix_time_millis
        UpdateExpressionParser.make = staticmethod(_parse_update)  # type: ignore[method-assign,assignment]
        ddb_validators.deepcopy = tree_copy  # type: ignore[attr-defined]
        ddb_ast.DepthFirstTraverser.traverse_node_recursively = traverse_node_recursively  # type: ignore[method-assign]
        ddb_validators.UpdateExpressionValidator.__init__ = validator_init  # type: ignore[method-assign]
        ddb_validators.UpdateExpressionValidator.validate = validate  # type: ignore[method-assign]
        _applied = True
