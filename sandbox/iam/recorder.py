"""Record every AWS call made as a role: who called, the IAM action, the resource ARN.

`install()` wraps botocore once per process: every API call (`BaseClient._make_api_call`, which
Stubber-stubbed calls go through too) and every presigned URL or POST (made with the caller's
credentials, so S3 authorizes the caller when the URL is used). Calls made while no caller is
set (contract/callers.py: test set-up, the sandbox's provisioning) are not recorded.

Records go to the lists of the `collected()` blocks running and, when BYOIP_AWS_CALLS_DIR is set,
to one JSONL file per process in that directory (pytest-xdist workers each write their own).
`bind()` writes how one deployment's template maps onto the resources the calls reached
(tests/iam evaluates with it).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import botocore.client
import botocore.signers

from contract import callers
from sandbox.iam.actions import authorized, request_context

CALLS_DIR_ENV = "BYOIP_AWS_CALLS_DIR"
_collectors: list[list[dict[str, Any]]] = []
_API_IDS: dict[str, str] = {}  # local management endpoint (scheme://host:port) -> the API id it stands for
_lock = threading.Lock()
_installed: dict[str, Any] = {}
_outside: ContextVar[tuple[tuple[str, str], ...]] = ContextVar("byoip_outside_stack", default=())


def _sink(record: dict[str, Any]) -> None:
    directory = os.environ.get(CALLS_DIR_ENV)
    with _lock:
        for found in _collectors:
            found.append(record)
        if directory:
            with (Path(directory) / f"calls-{os.getpid()}.jsonl").open("a") as out:
                out.write(json.dumps(record, sort_keys=True) + "\n")


@contextmanager
def outside_the_stack(resource: str, reason: str) -> Iterator[None]:
    """Calls made in the block on exactly `resource` (an ARN) target, on purpose, a resource the
    template does not deploy (a test's deleted secret): they are recorded with `reason` and listed,
    not evaluated. Every other call in the block is evaluated as usual."""
    token = _outside.set((*_outside.get(), (resource, reason)))
    try:
        yield
    finally:
        _outside.reset(token)


def record(
    client: Any,
    operation: str,
    params: dict[str, Any],
    *,
    presigned: bool = False,
    post: dict[str, Any] | None = None,
) -> None:
    """Record one call of `client` as the current caller (nothing when no caller is set). `post` is a
    presigned POST's Fields and Conditions: what the upload is bound to send."""
    caller = callers.current()
    if caller is None:
        return
    meta = client.meta
    service = meta.service_model.service_name
    try:
        pairs = authorized(
            service, operation, params, region=meta.region_name, endpoint=meta.endpoint_url, api_ids=_API_IDS
        )
    except (KeyError, ValueError, AttributeError, TypeError) as exc:  # a malformed request: AWS refuses it
        pairs = [(f"{service}:{operation}", f"unmapped: {type(exc).__name__}")]
        malformed = f"malformed, refused before IAM: {exc}"
    else:
        malformed = ""
    context = request_context(service, operation, params, post)
    outside = dict(_outside.get())
    for action, resource in pairs:
        entry = {
            "caller": str(caller),
            "kind": caller.kind,
            "name": caller.name,
            "deployment": caller.deployment,
            "operation": operation + (" (presigned)" if presigned else ""),
            "action": action,
            "resource": resource,
        }
        if context:
            entry["context"] = context
        if resource in outside or malformed:
            entry["outside_stack"] = outside.get(resource, malformed)
        _sink(entry)


def bind(deployment: str, **binding: Any) -> None:
    """Say how `deployment`'s template maps onto real resources: stage, region, and either the
    functions' environment (`env`) or the physical ids (`refs`, `attrs`); `api_ids` names local
    management endpoints by the API id they stand for."""
    _API_IDS.update(binding.get("api_ids", {}))
    _sink({"binding": deployment, **binding})


def install() -> None:
    """Wrap botocore's call and presign paths (idempotent; clients made before keep no wrapper for
    presigning, so install before the first client is made)."""
    if _installed:
        return
    make_api_call = botocore.client.BaseClient._make_api_call
    presign_url, presign_post = (
        botocore.signers.generate_presigned_url,
        botocore.signers.generate_presigned_post,
    )
    _installed.update(call=make_api_call, url=presign_url, post=presign_post)

    def _make_api_call(self: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        record(self, operation_name, api_params)
        return make_api_call(self, operation_name, api_params)

    def generate_presigned_url(
        self: Any, ClientMethod: str, Params: Any = None, *args: Any, **kw: Any
    ) -> Any:  # noqa: N803
        record(self, self._PY_TO_OP_NAME.get(ClientMethod, ClientMethod), dict(Params or {}), presigned=True)
        return presign_url(self, ClientMethod, Params, *args, **kw)

    def generate_presigned_post(
        self: Any,
        Bucket: str,  # noqa: N803
        Key: str,  # noqa: N803
        Fields: Any = None,  # noqa: N803
        Conditions: Any = None,  # noqa: N803
        *args: Any,
        **kw: Any,
    ) -> Any:
        post = {"fields": dict(Fields or {}), "conditions": list(Conditions or [])}
        record(self, "PutObject", {"Bucket": Bucket, "Key": Key}, presigned=True, post=post)
        return presign_post(self, Bucket, Key, Fields, Conditions, *args, **kw)

    botocore.client.BaseClient._make_api_call = _make_api_call  # type: ignore[method-assign]
    botocore.signers.generate_presigned_url = generate_presigned_url
    botocore.signers.generate_presigned_post = generate_presigned_post


@contextmanager
def collected() -> Iterator[list[dict[str, Any]]]:
    """The records (calls and bindings) made in this process while the block runs."""
    found: list[dict[str, Any]] = []
    with _lock:
        _collectors.append(found)
    try:
        yield found
    finally:
        with _lock:
            _collectors.remove(found)


def bind_sandbox(deployment: str, resolver: Any, *, stage: str, endpoint: str, api_id: str) -> None:
    """Bind a running sandbox: the template's ids resolve to what the sandbox created in moto, and its
    local management endpoint stands for the WebSocket API `api_id`. Installs the recorder when
    BYOIP_AWS_CALLS_DIR is set (`byoip gameday` outside the tests records too)."""
    if os.environ.get(CALLS_DIR_ENV):
        install()
    if not _installed:
        return
    refs = dict(resolver.refs)
    for logical_id, _ in resolver.of_type("AWS::ApiGatewayV2::Api"):
        refs[logical_id] = api_id
    attrs = {f"{lid}|{attr}": value for (lid, attr), value in resolver.attrs.items()}
    url = urlparse(endpoint)
    bind(
        deployment,
        stage=stage,
        region=resolver.region,
        refs=refs,
        attrs=attrs,
        api_ids={f"{url.scheme}://{url.netloc}": api_id},
    )
