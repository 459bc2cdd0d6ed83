"""Take a grant away from a role for a while, as a bad deploy of its policy would.

`revoked(caller, actions, resource)` wraps botocore's API call path (outside the call recorder,
if installed): while the block runs, a call made as a caller whose name ends with `caller` and
that IAM would authorize as one of `actions` on a resource containing `resource` fails the way
AWS refuses it, with AccessDeniedException (AccessDenied for S3), before it reaches moto. The
(action, resource) pairs come from the same mapping the IAM check uses (sandbox/iam/actions.py),
so a revocation names what a policy names. Game days use it for the quiet failures a missing
grant causes (sandbox/gameday/quiet.py).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from fnmatch import fnmatch
from typing import Any

import botocore.client
from botocore.exceptions import ClientError

from contract import callers
from sandbox.iam.actions import authorized


@dataclass(frozen=True)
class Revocation:
    caller: str  # suffix of the caller's physical name (function or document name)
    actions: frozenset[str]  # IAM actions, e.g. "dynamodb:PutItem", or patterns ("sqs:*")
    resource: str  # a part of the resource ARN, e.g. "table/byoip-prod-agents"

    def denies(self, caller: str, pairs: list[tuple[str, str]]) -> tuple[str, str] | None:
        if not caller.endswith(self.caller):
            return None
        return next(
            ((a, r) for a, r in pairs if self.resource in r and any(fnmatch(a, x) for x in self.actions)),
            None,
        )


_active: list[Revocation] = []
_lock = threading.Lock()
_original: dict[str, Any] = {}
denied: list[tuple[str, str, str]] = []  # (caller, action, resource) of every refused call


def _check(client: Any, operation: str, params: dict[str, Any]) -> None:
    caller = callers.current()
    with _lock:
        active = list(_active)
    if caller is None or not active:
        return
    meta = client.meta
    service = meta.service_model.service_name
    try:
        pairs = authorized(
            service, operation, params, region=meta.region_name, endpoint=meta.endpoint_url, api_ids={}
        )
    except (KeyError, ValueError, AttributeError, TypeError):
        return  # malformed: AWS refuses it before IAM, moto will too
    for revocation in active:
        hit = revocation.denies(caller.name, pairs)
        if hit:
            with _lock:
                denied.append((caller.name, *hit))
            code = "AccessDenied" if service == "s3" else "AccessDeniedException"
            message = f"{caller.name} is not authorized to perform: {hit[0]} on resource: {hit[1]}"
            raise ClientError({"Error": {"Code": code, "Message": message}}, operation)


def _install() -> None:
    if _original:
        return
    make_api_call = botocore.client.BaseClient._make_api_call
    _original["call"] = make_api_call

    def _make_api_call(self: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        _check(self, operation_name, api_params)
        return make_api_call(self, operation_name, api_params)

    botocore.client.BaseClient._make_api_call = _make_api_call  # type: ignore[method-assign]


@contextmanager
def revoked(caller: str, actions: tuple[str, ...] | list[str], resource: str) -> Iterator[Revocation]:
    """While the block runs, `caller` may not perform `actions` on resources containing `resource`."""
    revocation = Revocation(caller, frozenset(actions), resource)
    with _lock:
        _install()
        _active.append(revocation)
    try:
        yield revocation
    finally:
        with _lock:
            _active.remove(revocation)
