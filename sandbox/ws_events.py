"""API Gateway WebSocket event shapes ($connect, MESSAGE routes, $disconnect)."""

from __future__ import annotations

import base64
import secrets
import time
import uuid
from email.utils import formatdate
from typing import Any
from urllib.parse import parse_qs


def new_connection_id() -> str:
    """An id shaped like API Gateway's (12 random bytes, base64, e.g. 'L0SM9cOFvHcCIhw=')."""
    return base64.b64encode(secrets.token_bytes(10)).decode()


def _context(
    route_key: str,
    event_type: str,
    connection_id: str,
    connected_at_ms: int,
    domain: str,
    api_id: str,
    source_ip: str,
    user_agent: str,
) -> dict[str, Any]:
    now_ms = int(time.time() * 1000)
    return {
        "routeKey": route_key,
        "eventType": event_type,
        "extendedRequestId": uuid.uuid4().hex[:16],
        "requestTime": formatdate(now_ms / 1000, usegmt=True),
        "messageDirection": "IN",
        "stage": "prod",
        "connectedAt": connected_at_ms,
        "requestTimeEpoch": now_ms,
        "identity": {"sourceIp": source_ip, "userAgent": user_agent},
        "requestId": uuid.uuid4().hex[:16],
        "domainName": domain,
        "connectionId": connection_id,
        "apiId": api_id,
    }


def connect_event(
    *,
    connection_id: str,
    path_query: str,
    headers: dict[str, str],
    domain: str,
    api_id: str,
    source_ip: str,
) -> dict[str, Any]:
    """The $connect event: headers, query string parameters, request context."""
    query = parse_qs(path_query.partition("?")[2], keep_blank_values=True)
    ctx = _context(
        "$connect",
        "CONNECT",
        connection_id,
        int(time.time() * 1000),
        domain,
        api_id,
        source_ip,
        headers.get("User-Agent", ""),
    )
    return {
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "requestContext": ctx,
        "isBase64Encoded": False,
    }


def message_event(
    *,
    route_key: str,
    connection_id: str,
    connected_at_ms: int,
    body: str | bytes,
    domain: str,
    api_id: str,
    source_ip: str,
    user_agent: str,
) -> dict[str, Any]:
    """A MESSAGE event for a route; binary frames arrive base64-encoded."""
    ctx = _context(
        route_key, "MESSAGE", connection_id, connected_at_ms, domain, api_id, source_ip, user_agent
    )
    ctx["messageId"] = uuid.uuid4().hex[:16]
    binary = isinstance(body, bytes)
    return {
        "requestContext": ctx,
        "body": base64.b64encode(body).decode() if binary else body,
        "isBase64Encoded": binary,
    }


def disconnect_event(
    *,
    connection_id: str,
    connected_at_ms: int,
    status_code: int,
    reason: str,
    domain: str,
    api_id: str,
    source_ip: str,
    user_agent: str,
) -> dict[str, Any]:
    """The $disconnect event, with the close code and reason."""
    ctx = _context(
        "$disconnect", "DISCONNECT", connection_id, connected_at_ms, domain, api_id, source_ip, user_agent
    )
    ctx["disconnectStatusCode"] = status_code
    ctx["disconnectReason"] = reason
    return {
        "headers": {"Host": domain, "x-api-key": "", "X-Forwarded-For": "", "x-restapi": ""},
        "multiValueHeaders": {},
        "requestContext": ctx,
        "isBase64Encoded": False,
    }
