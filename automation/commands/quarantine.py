"""`byoip quarantine export|delete`: keep the quarantine's messages before they expire, then remove them.

The quarantine holds GuardedRedrive's (and `byoip dlq replay`'s) poison pills for 14 days
(its retention). `export` writes each one as a JSON line (a file, or S3 with SSE-KMS) and
deletes nothing; `delete` removes the ones named by id or filter after a confirmation.
Both read the queue once with automation/dlq_tools.py's Reader: each message stays invisible
while the command runs and what is not deleted is made visible again at once when it ends.
Reading counts as a receive (`receiveCount` in the export includes the export's own read); the
quarantine has no redrive policy, so that moves nothing.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from automation import clients
from automation.commands.dlq import (
    Creator,
    Everything,
    ExcludeKind,
    JobId,
    Kind,
    Reason,
    Region,
    filters_from,
    print_rows,
)
from automation.dlq_tools import MAX_EXPORT, Reader, export_record, job_fields, marked_reason, parked_reason
from automation.output import REFUSED, console, fail
from automation.queues import queue_url_by_name
from automation.stage import stage_config
from contract.names import QUARANTINE

app = typer.Typer(help="Export or delete the quarantine's poison pills.", no_args_is_help=True)

S3_URL = re.compile(r"\As3://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:/(?P<prefix>.*))?\Z")
MESSAGE_ID = re.compile(r"\A[A-Za-z0-9-]{1,100}\Z")
_clock = time.time  # tests pin it


def _quarantine(stage: str, region: str | None) -> tuple[Any, str, str, str]:
    """(sqs, region, queue name, queue url) of the stage's quarantine."""
    chosen = clients.region_or_fail(region)
    sqs = clients.client("sqs", chosen)
    name = stage_config(stage).names.queue(QUARANTINE)
    return sqs, chosen, name, queue_url_by_name(sqs, name, chosen)


def _kms_key(stage: str, region: str, kms_key: str | None) -> str:
    """--kms-key, else the stage's data key (its alias resolved to the key ARN)."""
    if kms_key:
        return kms_key
    alias = stage_config(stage).names.data_key_alias
    kms = clients.client("kms", region)
    try:
        return str(kms.describe_key(KeyId=alias)["KeyMetadata"]["Arn"])
    except kms.exceptions.NotFoundException:
        fail(f"no KMS key {alias} in {region}: pass --kms-key <key ARN> for the export's SSE-KMS")


@app.command("export")
def export(
    stage: Annotated[str, typer.Option("--stage", help="Stage whose quarantine to export.")],
    out: Annotated[Path | None, typer.Option("--out", help="Write JSON lines to this new file.")] = None,
    s3: Annotated[str | None, typer.Option("--s3", help="Or upload to s3://bucket/prefix (SSE-KMS).")] = None,
    kms_key: Annotated[
        str | None, typer.Option("--kms-key", help="KMS key ARN for S3 (default: the stage's data key).")
    ] = None,
    region: Region = None,
) -> None:
    """Write every quarantine message (body, attributes, ids, sent time, receives) as JSON lines."""
    if (out is None) == (s3 is None):
        fail("name exactly one destination: --out FILE or --s3 s3://bucket/prefix")
    if kms_key is not None and s3 is None:
        fail("--kms-key is for --s3 (a local file is not encrypted by KMS)")
    target = S3_URL.match(s3 or "") if s3 is not None else None
    if s3 is not None and target is None:
        fail(f"--s3 {s3!r} is not s3://bucket/prefix")
    if out is not None and out.exists():
        fail(f"--out {out} exists: name a new file (an export never overwrites)")
    sqs, chosen, name, url = _quarantine(stage, region)
    key_arn = _kms_key(stage, chosen, kms_key) if target else ""
    reader = Reader(sqs, url, max_scan=MAX_EXPORT)
    try:
        lines = [json.dumps(export_record(message), sort_keys=True) + "\n" for message in reader.messages()]
        text = "".join(lines)
        if target:
            stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(_clock()))
            prefix = (target["prefix"] or "").strip("/")
            key = f"{prefix}/{name}-{stamp}.jsonl".lstrip("/")
            clients.client("s3", chosen).put_object(
                Bucket=target["bucket"],
                Key=key,
                Body=text.encode(),
                ContentType="application/x-ndjson",
                ServerSideEncryption="aws:kms",
                SSEKMSKeyId=key_arn,
            )
            where = f"s3://{target['bucket']}/{key} (SSE-KMS {key_arn})"
        else:
            assert out is not None
            out.write_text(text)
            where = str(out)
    finally:
        reader.close()
    console.print(
        f"exported {len(lines)} message(s) of {name} to {where}; none deleted "
        "(each expires 14 days after it was sent)",
        markup=False,
    )
    if len(lines) >= MAX_EXPORT:
        console.print(f"stopped at {MAX_EXPORT} messages: export the rest with a second run", markup=False)


def _row(message: dict[str, Any]) -> dict[str, str]:
    job = job_fields(message)
    return {
        "messageId": message["MessageId"],
        "jobId": job["jobId"] or "-",
        "creatorId": job["creatorId"] or "-",
        "kind": job["kind"] or "-",
        "reason": parked_reason(message) or marked_reason(message) or "-",
    }


@app.command("delete")
def delete(
    stage: Annotated[str, typer.Option("--stage", help="Stage whose quarantine to clean.")],
    message_ids: Annotated[list[str] | None, typer.Option("--id", help="Message id (repeatable).")] = None,
    reason: Reason = None,
    creator: Creator = None,
    job_id: JobId = None,
    kind: Kind = None,
    exclude_kind: ExcludeKind = None,
    everything: Everything = False,
    yes: Annotated[bool, typer.Option("--yes", help="Delete without asking.", metavar="")] = False,
    region: Region = None,
) -> None:
    """Delete quarantine messages by id or by filter (as `dlq replay`), after a confirmation."""
    ids = set(message_ids or ())
    for value in ids:
        if not MESSAGE_ID.match(value):
            fail(f"--id {value!r} is not an SQS message id")
    given = [reason, creator, job_id, kind, exclude_kind]
    if ids and (everything or any(given)):
        fail("name the messages by --id or by filters, not both")
    filters = None if ids else filters_from(reason, creator, job_id, kind, exclude_kind, everything)
    sqs, _, name, url = _quarantine(stage, region)
    reader = Reader(sqs, url, max_scan=MAX_EXPORT)
    try:
        chosen = []
        for message in reader.messages():
            if message["MessageId"] in ids if filters is None else filters.matches(message):
                chosen.append(message)
                if filters is None and len(chosen) == len(ids):
                    break
        missing = sorted(ids - {m["MessageId"] for m in chosen})
        if missing:
            console.print(f"not in {name}: {', '.join(missing)}", markup=False)
        if not chosen:
            console.print(f"{name}: no message matches; nothing deleted", markup=False)
            return
        print_rows([_row(m) for m in chosen], f"{name}: {len(chosen)} message(s) to delete")
        if not (yes or typer.confirm(f"Delete these {len(chosen)} message(s) from {name}?", default=False)):
            fail("not confirmed: nothing deleted", REFUSED)
        for message in chosen:
            latest = reader.held.get(message["MessageId"], message)  # a re-receive renews the handle
            sqs.delete_message(QueueUrl=url, ReceiptHandle=latest["ReceiptHandle"])
            reader.done(message)
    finally:
        reader.close()
    console.print(f"deleted {len(chosen)} message(s) from {name}", markup=False)
