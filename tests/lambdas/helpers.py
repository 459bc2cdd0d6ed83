"""Builders and readers shared by the Lambda tests (events, tokens, items, frames, queues)."""

from __future__ import annotations

import copy
import json
import time
import uuid
import warnings
from pathlib import Path
from typing import Any

import boto3
import jwt
from jwt.warnings import InsecureKeyLengthWarning

from lambdas.common.keys import key_id

EVENTS = Path(__file__).resolve().parent.parent / "events"
REGION = "eu-west-1"
ACCOUNT = "123456789012"
SECRET = "k3y-for-tests-" + "x" * 34  # 48 bytes: above HS256's 32-byte minimum
ENV = {
    "STAGE": "test",
    "JOBS_TABLE": "byoip-test-jobs",
    "AGENTS_TABLE": "byoip-test-agents",
    "CREATOR_LIMITS_TABLE": "byoip-test-creator-limits",
    "PATCHES_BUCKET": "byoip-test-patches",
    "LOGS_BUCKET": "byoip-test-logs",
    "LOGS_KMS_KEY_ARN": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0b5e4b5a-6a63-4d9e-9e2a-4f3c1d2e5a7b",
    "WS_ENDPOINT": f"https://abc123.execute-api.{REGION}.amazonaws.com/prod",
    "WS_JWT_SECRET": SECRET,
    "LEASE_SECONDS": "300",
    "MAX_ATTEMPTS": "3",
    # Released held jobs are readable at once; test_ws_connect checks the default delay.
    "RELEASE_DELAY_SECONDS": "0",
    "POWERTOOLS_SERVICE_NAME": "byoip",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
}


def event(name: str) -> dict[str, Any]:
    """A sample event from tests/events/."""
    return json.loads((EVENTS / f"{name}.json").read_text())


def token(
    agent: str = "agent-1",
    creator: str = "creator-1",
    *,
    lifetime: int = 600,
    key: str = SECRET,
    algorithm: str = "HS256",
    drop: tuple[str, ...] = (),
    iat: int | None = None,
    kid: str | None = None,
) -> str:
    """A signed agent token (drop= removes claims; kid defaults to the signing key's own id)."""
    issued = int(time.time()) if iat is None else iat
    claims = {"agentId": agent, "creatorId": creator, "iat": issued, "exp": issued + lifetime}
    for name in drop:
        claims.pop(name)
    with warnings.catch_warnings():
        # Hostile tokens are signed with deliberately weak keys; the warning is noise here.
        warnings.simplefilter("ignore", InsecureKeyLengthWarning)
        return jwt.encode(
            claims, key, algorithm=algorithm, headers={"kid": key_id(key) if kid is None else kid}
        )


def connect_event(tok: str | None, connection_id: str) -> dict[str, Any]:
    ev = event("ws_connect")
    ev["queryStringParameters"] = None if tok is None else {"token": tok}
    ev["requestContext"]["connectionId"] = connection_id
    return ev


def message_event(body: str | dict[str, Any], connection_id: str) -> dict[str, Any]:
    ev = event("ws_message_heartbeat")
    ev["body"] = body if isinstance(body, str) else json.dumps(body)
    ev["requestContext"]["connectionId"] = connection_id
    return ev


def disconnect_event(connection_id: str) -> dict[str, Any]:
    ev = event("ws_disconnect")
    ev["requestContext"]["connectionId"] = connection_id
    return ev


def job_body(
    job_id: str, agent: str = "agent-1", creator: str = "creator-1", *, critical: bool = False, **extra: Any
) -> str:
    return json.dumps(
        {
            "jobId": job_id,
            "agentId": agent,
            "creatorId": creator,
            "kind": "post.publish",
            "payload": {"postId": f"p-{job_id}"},
            "critical": critical,
            **extra,
        }
    )


def sqs_event(*bodies: str, sent_at: int | None = None) -> dict[str, Any]:
    """An SQS event with one record per body; messageIds are m0, m1, ...

    `sent_at` (epoch seconds) sets every record's SentTimestamp; by default it is the sample
    event's, a day before the tests' frozen clock (so deliveries count as late).
    """
    template = event("sqs_jobs")["Records"][0]
    records = []
    for n, body in enumerate(bodies):
        record = copy.deepcopy(template)
        record.update(messageId=f"m{n}", body=body, receiptHandle=uuid.uuid4().hex)
        if sent_at is not None:
            record["attributes"]["SentTimestamp"] = str(sent_at * 1000)
        records.append(record)
    return {"Records": records}


def ddb() -> Any:
    """The handlers' own (cached) DynamoDB client."""
    from lambdas.common import aws

    return aws.client("dynamodb")


def item(table: str, key: str, value: str) -> dict[str, Any] | None:
    from lambdas.common.ddb import from_item

    resp = ddb().get_item(TableName=ENV[table], Key={key: {"S": value}}, ConsistentRead=True)
    return from_item(resp.get("Item"))


def job(job_id: str) -> dict[str, Any] | None:
    return item("JOBS_TABLE", "jobId", job_id)


def agent(agent_id: str, creator_id: str = "creator-1") -> dict[str, Any] | None:
    return item("AGENTS_TABLE", "pk", f"agent#{creator_id}#{agent_id}")


def conn(connection_id: str) -> dict[str, Any] | None:
    return item("AGENTS_TABLE", "pk", f"conn#{connection_id}")


def creator_limits(creator_id: str) -> dict[str, Any] | None:
    return item("CREATOR_LIMITS_TABLE", "creatorId", creator_id)


def put_limits(creator_id: str, **attrs: Any) -> None:
    from lambdas.common.ddb import to_item

    ddb().put_item(TableName=ENV["CREATOR_LIMITS_TABLE"], Item=to_item({"creatorId": creator_id, **attrs}))


def put_job(
    job_id: str, status: str, agent_id: str = "agent-1", creator_id: str = "creator-1", **attrs: Any
) -> None:
    """Store a job item directly (defaults: creator-1, attempt 1, held jobs carry heldAgentId)."""
    from lambdas.common.ddb import to_item

    item = {
        "jobId": job_id,
        "status": status,
        "agentId": agent_id,
        "creatorId": creator_id,
        "kind": "post.publish",
        "payload": '{"postId":"p"}',
        "critical": False,
        "attempt": 1,
        "createdAt": 1_795_872_000,
        **({"heldAgentId": f"{creator_id}#{agent_id}"} if status == "held" else {}),
        **attrs,
    }
    ddb().put_item(TableName=ENV["JOBS_TABLE"], Item=to_item(item))


def frames(connection_id: str) -> list[dict[str, Any]]:
    """Every frame PostToConnection sent to a connection (moto concatenates them)."""
    from moto.apigatewaymanagementapi.models import apigatewaymanagementapi_backends

    data = apigatewaymanagementapi_backends[ACCOUNT][REGION].connections[connection_id].data.decode()
    decoder, out, pos = json.JSONDecoder(), [], 0
    while pos < len(data):
        frame, pos = decoder.raw_decode(data, pos)
        out.append(frame)
    return out


def drain(queue_url: str) -> list[dict[str, Any]]:
    """Receive and delete every message of a queue: [{"body": ..., "attributes": {...}}]."""
    from lambdas.common import aws

    sqs = aws.client("sqs")
    out = []
    while True:
        resp = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"])
        messages = resp.get("Messages", [])
        if not messages:
            return out
        for m in messages:
            attrs = {k: v["StringValue"] for k, v in m.get("MessageAttributes", {}).items()}
            out.append({"body": m["Body"], "attributes": attrs})
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])


def queued_jobs(queue_url: str) -> list[dict[str, Any]]:
    """Drain a queue and return its job messages parsed, sorted by jobId."""
    return sorted((json.loads(m["body"]) for m in drain(queue_url)), key=lambda b: b["jobId"])


def gateway_stub(*errors: tuple[str, int], before: Any = None) -> Any:
    """Install a Stubber'd management API client whose PostToConnection calls fail in order.

    `errors` are (code, http status) pairs; `before` runs first on each call (e.g. a reconnect).
    """
    from botocore.stub import Stubber

    from lambdas.common import aws

    client = boto3.client("apigatewaymanagementapi", endpoint_url=ENV["WS_ENDPOINT"], region_name=REGION)
    stub = Stubber(client)
    for code, status in errors:
        stub.add_client_error("post_to_connection", service_error_code=code, http_status_code=status)
    stub.activate()
    if before is not None:  # registered after the Stubber so it runs ahead of its canned answer
        # (botocore aliases this service's event names; the wildcard is what reliably matches)
        client.meta.events.register_first(
            "before-call.*.*", lambda **_: _as_another_container(before, client)
        )
    aws.override("apigatewaymanagementapi", client)
    return stub


def _as_another_container(actor: Any, stubbed: Any) -> None:
    """Run another function's move (e.g. a `$connect`, which may close a superseded connection) with
    its own management API client: it runs in another container, and the canned answers are not its."""
    from lambdas.common import aws

    plain = boto3.client("apigatewaymanagementapi", endpoint_url=ENV["WS_ENDPOINT"], region_name=REGION)
    aws.override("apigatewaymanagementapi", plain)
    try:
        actor()
    finally:
        aws.override("apigatewaymanagementapi", stubbed)


class ManagementApi:
    """The management API as the handlers see it, recording every frame and close (moto forgets a
    deleted connection's frames, and accepts any connection id). `refuse_deletes` names the error
    code every DeleteConnection then fails with (e.g. a throttle), after it is recorded."""

    def __init__(self) -> None:
        self._api = boto3.client(
            "apigatewaymanagementapi", endpoint_url=ENV["WS_ENDPOINT"], region_name=REGION
        )
        self.exceptions = self._api.exceptions
        self.sent: list[tuple[str, dict[str, Any]]] = []  # (connection id, frame)
        self.closed: list[str] = []
        self.refuse_deletes: str | None = None

    @property
    def frames(self) -> list[dict[str, Any]]:
        return [frame for _, frame in self.sent]

    def frames_to(self, connection_id: str) -> list[dict[str, Any]]:
        return [frame for conn, frame in self.sent if conn == connection_id]

    def post_to_connection(self, *, ConnectionId: str, Data: bytes) -> dict[str, Any]:  # noqa: N803
        self.sent.append((ConnectionId, json.loads(Data)))
        return self._api.post_to_connection(ConnectionId=ConnectionId, Data=Data)

    def delete_connection(self, *, ConnectionId: str) -> dict[str, Any]:  # noqa: N803
        from botocore.exceptions import ClientError

        self.closed.append(ConnectionId)
        if self.refuse_deletes:
            error = {"Error": {"Code": self.refuse_deletes, "Message": "refused by the test"}}
            raise ClientError(error, "DeleteConnection")  # type: ignore[arg-type]
        return self._api.delete_connection(ConnectionId=ConnectionId)


def job_fields(job_id: str, *, critical: bool = False, attempt: int = 1) -> dict[str, Any]:
    """The fields a dispatcher transition copies from `job_body(job_id)` into the job item."""
    return {
        "jobId": job_id,
        "agentId": "agent-1",
        "creatorId": "creator-1",
        "kind": "post.publish",
        "payload": json.dumps({"postId": f"p-{job_id}"}, separators=(",", ":")),
        "critical": critical,
        "attempt": attempt,
        "traceId": job_id,  # job_body sends no traceId: the job is correlated by its id
    }


def held_job(job_id: str, reason: str, *, updated: int, created: int) -> dict[str, Any]:
    """The whole item of `job_body(job_id)` held for creator-1's agent-1."""
    return {
        **job_fields(job_id),
        "status": "held",
        "heldAgentId": "creator-1#agent-1",
        "reason": reason,
        "updatedAt": updated,
        "createdAt": created,
    }
