"""The three WebSocket routes as plain functions: `$connect`, `$default` (agent frames), `$disconnect`.

None of them lets an exception escape: a bad token is a 401 (no detail, token never
logged), a bad frame is an error frame, a failure of ours is logged and answered (`$connect`: 503).
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from lambdas.common import (
    auth,
    aws,
    clock,
    connections,
    ddb,
    limits,
    metrics,
    ratelimit,
    reserved,
    revocation,
)
from lambdas.common.agent_actions import ACTIONS, Caller, parse_agent_frame
from lambdas.common.job_message import JOB_KEYS, job_keys
from lambdas.common.protocol import LOG_LINE, FrameError, encode, error_frame
from lambdas.common.requeue import release_held
from lambdas.common.settings import settings

UNAUTHORIZED = {"statusCode": 401}
UNAVAILABLE = {"statusCode": 503}
OK = {"statusCode": 200}


def _connection_id(event: dict[str, Any]) -> str:
    return str((event.get("requestContext") or {}).get("connectionId") or "")


class _Refused(Exception):
    """`$connect` ends here: `reason` is one of metrics.CONNECT_OUTCOMES, `response` what the agent gets."""

    def __init__(self, reason: str, response: dict[str, Any]) -> None:
        super().__init__(reason)
        self.reason = reason
        self.response = response


def _ours(err: Exception, reason: str) -> _Refused:
    """A failure of ours (503: the token may be fine, retry): a throttle anywhere is `throttled`."""
    throttled = isinstance(err, ClientError) and ddb.error_code(err) in ddb.THROTTLE_CODES
    return _Refused("throttled" if throttled else reason, UNAVAILABLE)


def connect(event: dict[str, Any], logger: Any) -> dict[str, Any]:
    """Verify the token, record the connection, release the agent's held jobs; count the outcome.

    Every `$connect` is counted once by reason (metrics.CONNECT_OUTCOMES), the connect SLI: a
    client's bad or revoked token answers 401, a failure of ours (the JWT secret unreadable, the
    agents table refusing the write, a throttle) 503, which agents retry with backoff.
    """
    now = clock.now()
    seen: dict[str, str] = {}  # the creator, once the token named one
    try:
        _connect(event, logger, now, seen)
        reason, response = "ok", OK
    except _Refused as refused:
        reason, response = refused.reason, refused.response
    if not reserved.is_probe(seen.get("creator")):  # the black-box probe stays out of every SLI
        counters = metrics.Counters()
        counters.add(metrics.BYOIP, metrics.CONNECT_OUTCOMES[reason])
        counters.flush(settings().stage, now * 1000)
    return response


def _connect(event: dict[str, Any], logger: Any, now: int, seen: dict[str, str]) -> None:
    connection_id = _connection_id(event)
    token = (event.get("queryStringParameters") or {}).get("token")
    try:
        identity = auth.verify_token(token, auth.key_for(token, settings()))
    except auth.TokenRejected as rejected:
        logger.warning("ws_connect_rejected reason=token_invalid", extra={"detail": rejected.why})
        raise _Refused("token_invalid", UNAUTHORIZED) from None
    except (auth.MisconfiguredSecret, ClientError, BotoCoreError) as err:
        refused = _ours(err, "secret_unavailable")
        logger.error(f"ws_connect_failed reason={refused.reason}", extra={"detail": str(err)})
        raise refused from None
    seen["creator"] = identity.creator_id
    try:
        creator_limits = limits.get_limits(identity.creator_id)
        if identity.issued_at <= connections.revoked_since(
            identity.creator_id, identity.agent_id, creator_limits
        ):
            logger.warning(
                "ws_connect_rejected reason=token_revoked",
                extra={"agentId": identity.agent_id, "creatorId": identity.creator_id},
            )
            raise _Refused("revoked", UNAUTHORIZED)
        replaced = connections.register(
            identity.agent_id,
            identity.creator_id,
            connection_id,
            now,
            identity.expires_at,
            identity.issued_at,
            identity.key_id,
        )
    except (ClientError, BotoCoreError) as err:
        refused = _ours(err, "register_failed")
        logger.exception(f"ws_connect_failed reason={refused.reason}", extra={"agentId": identity.agent_id})
        raise refused from None
    if replaced:
        _supersede(replaced, identity.agent_id, logger)
    released = 0
    try:
        # A paused creator keeps its jobs parked (a paused kind, its jobs of that kind); the
        # connection itself never changes a pause.
        if not (creator_limits or {}).get("paused"):
            released = release_held(
                identity.creator_id,
                identity.agent_id,
                now=now,
                keep_kinds=limits.paused_kinds(creator_limits),
            )
    except (ClientError, BotoCoreError):
        logger.exception("held_release_failed", extra={"agentId": identity.agent_id})
    logger.info(
        f"agent_connected agentId={identity.agent_id} released={released}",
        extra={"agentId": identity.agent_id, "creatorId": identity.creator_id, "released": released},
    )


def _supersede(connection_id: str, agent_id: str, logger: Any) -> None:
    """Close the connection a new `$connect` of the same agent replaced (one live connection per agent).

    Its item is forgotten first: its `$disconnect` then finds nothing to drop (the new connection
    stays current) and is no goodbye; a frame it still sends is `not_connected`. Best effort: a
    failure here does not refuse the new connection.
    """
    try:
        if connections.forget(connection_id):
            logger.warning("ws_connection_closed reason=superseded", extra={"agentId": agent_id})
            why = "another connection of this agent replaced this one"
            _hang_up(connection_id, "superseded", why, logger)
    except (ClientError, BotoCoreError):
        logger.exception("ws_supersede_failed", extra={"agentId": agent_id})


def disconnect(event: dict[str, Any], logger: Any) -> dict[str, Any]:
    """Forget the connection; the agent's newer connection, if any, stays.

    A close with GOODBYE_CLOSE_CODE from the agent is a goodbye (offline by its owner's choice);
    a revoked connection (closed by an operator) counts as one too. Anything else is a loss.
    """
    connection_id = _connection_id(event)
    code = (event.get("requestContext") or {}).get("disconnectStatusCode")
    try:
        item = connections.connection(connection_id) or {}
        # A connection already forgotten (superseded, or closed by ws-message) says no goodbye.
        goodbye = bool(item) and (code == connections.GOODBYE_CLOSE_CODE or bool(item.get("revoked")))
        current = connections.drop(
            item.get("creatorId"), item.get("agentId"), connection_id, clock.now(), goodbye=goodbye
        )
        logger.info(
            f"agent_disconnected code={code} goodbye={str(goodbye).lower()}",
            extra={"agentId": item.get("agentId"), "wasCurrent": current},
        )
    except (ClientError, BotoCoreError):
        # Best effort: the connection item's TTL and the dispatcher's 410 handling clean up.
        logger.exception("ws_disconnect_failed")
    return OK


def message(event: dict[str, Any], logger: Any) -> dict[str, Any]:
    """Handle one agent frame and answer it over the connection (if anyone acts on it); always 200."""
    connection_id = _connection_id(event)
    counters = metrics.Counters()
    now = clock.now()
    caller_item: dict[str, Any] | None = None
    try:
        # Counted before parsing: junk frames spend the connection's allowance too.
        caller_item = ratelimit.admit(connection_id, now)
        if not caller_item:
            raise FrameError("not_connected", "unknown connection; reconnect with a fresh token")
        mark = revocation.MARKS.mark(caller_item["creatorId"], caller_item["agentId"], now)
        closing = connections.closing_reason(caller_item, now, mark)
        if closing:
            return _close(connection_id, caller_item, closing, now, logger)
        request = parse_agent_frame(event.get("body"), is_base64=bool(event.get("isBase64Encoded")))
        caller = Caller(
            caller_item["agentId"], caller_item["creatorId"], connection_id, int(caller_item.get("ttl", 0))
        )
        correlate(logger, request.fields)
        reply = ACTIONS[request.action].run(caller, request.fields, now, counters)
        note = reply.pop(LOG_LINE, None) if reply else None
        if note:
            logger.warning(note, extra={"agentId": caller.agent_id, "creatorId": caller.creator_id})
            reply = reply or None  # only a line to log: nothing to send
        if request.action == "job.result":  # the job's last line in ws-message, answered or not
            # The job's keys on the line itself too: appended keys are the logger's, shared by the
            # sandbox's handler threads, and another frame may remove them in between.
            keys = job_keys(request.fields["jobId"], request.fields.get("traceId"))
            logger.info(result_line(request.fields, reply or {}), extra={"agentId": caller.agent_id, **keys})
    except ratelimit.Flooding as flooding:
        return _cut_off(connection_id, flooding.item, now, logger)
    except FrameError as err:
        if err.detail:  # the backend's own fault (e.g. a bad patch manifest): an operator must act
            logger.error(f"ws_message_rejected code={err.code} {err.detail}", extra={"code": err.code})
        else:
            logger.info(f"ws_message_rejected code={err.code}", extra=_rejected_fields(err, caller_item))
        reply = error_frame(err.code, err.message)
    except Exception:
        logger.exception("ws_message_failed code=internal_error")
        reply = error_frame("internal_error", "the backend could not handle this frame; retry later")
    if reply is not None:  # frames no agent acts on (job.ack) get no answer: a message is billed
        send(connection_id, reply, logger)
    logger.remove_keys(list(JOB_KEYS))  # the next frame (a warm container) is about another job
    counters.flush(settings().stage, now * 1000)
    return OK


def _rejected_fields(err: FrameError, caller_item: dict[str, Any] | None) -> dict[str, Any]:
    """The code, and the creator whose frame it was once known (a rate-limited frame always names it)."""
    creator = err.creator_id if isinstance(err, ratelimit.Refused) else (caller_item or {}).get("creatorId")
    return {"code": err.code, "creatorId": creator} if creator else {"code": err.code}


def correlate(logger: Any, fields: dict[str, Any]) -> None:
    """Tag every following log line of a frame about one job with its jobId and correlation id.

    The correlation id is the agent's echoed `traceId` (the job.assign frame's); an older agent
    sends none, and its lines are correlated by the jobId, which every line carries as well (they
    have no `correlation_id`, nor do those whose traceId is the jobId: job_message.job_keys).
    """
    job_id = fields.get("jobId")
    if job_id:
        logger.append_keys(**job_keys(job_id, fields.get("traceId")))


def result_line(fields: dict[str, Any], reply: dict[str, Any]) -> str:
    """`job_result status=<s> requeued=<bool>`: the job's last line in ws-message (its jobId is the
    line's `jobId` key, not repeated in the text)."""
    line = f"job_result status={fields['status']} requeued={bool(reply.get('requeued'))}"
    if reply.get("duplicate"):
        line += " duplicate=True"
    return line


def _close(connection_id: str, item: dict[str, Any], code: str, now: int, logger: Any) -> dict[str, Any]:
    """Forget the connection, tell the agent why and close it (revoked or long-expired token)."""
    logger.warning(
        f"ws_connection_closed reason={code}", extra={"agentId": item.get("agentId"), "code": code}
    )
    # Forgotten before it is closed: the `$disconnect` that the close causes (code 1000) then finds
    # no current connection to drop, and is not taken for the agent's goodbye.
    connections.drop(item.get("creatorId"), item.get("agentId"), connection_id, now)
    _hang_up(connection_id, code, "reconnect with a fresh token", logger)
    return OK


def _cut_off(connection_id: str, item: dict[str, Any], now: int, logger: Any) -> dict[str, Any]:
    """A flooding agent (ratelimit.Flooding): revoke its tokens, as `byoip revoke` would, and close.

    Its reconnects with the same token then end at `$connect` (401, `$connect`'s own throttle
    bucket), not in the stage's `$default` bucket that every tenant's frames share.
    """
    try:
        connections.revoke_agent_tokens(item["creatorId"], item["agentId"], now)
    except (ClientError, BotoCoreError):
        logger.exception("ws_flood_revoke_failed", extra={"agentId": item.get("agentId")})
    return _close(connection_id, item, "flooding", now, logger)


def _hang_up(connection_id: str, code: str, why: str, logger: Any) -> None:
    """Send the error frame that says why, then DeleteConnection (a gone connection is no error)."""
    send(connection_id, error_frame(code, why), logger)
    try:
        aws.client("apigatewaymanagementapi").delete_connection(ConnectionId=connection_id)
    except (ClientError, BotoCoreError):
        pass  # already gone: the records are what matter


def send(connection_id: str, frame: dict[str, Any], logger: Any) -> bool:
    """PostToConnection one frame; a gone or failing connection is logged, not raised."""
    try:
        api = aws.client("apigatewaymanagementapi")
        api.post_to_connection(ConnectionId=connection_id, Data=encode(frame))
    except (ClientError, BotoCoreError) as err:
        code = ddb.error_code(err) if isinstance(err, ClientError) else type(err).__name__
        logger.warning(f"ws_reply_failed code={code}", extra={"code": code})
        return False
    return True
