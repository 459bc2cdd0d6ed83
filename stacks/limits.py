"""Limits at the edge: WebSocket stage throttling and Lambda concurrency, each number with its reason.

The account-level quotas these sit under (per region, defaults): 500 new WebSocket connections
a second across all WebSocket APIs; 10,000 requests a second (burst 5,000) across all of API
Gateway; 1,000 concurrent Lambda executions, of which at least 100 must stay unreserved (a
function's reserved concurrency is also its cap). Without limits of our own, a `$connect` storm
or a chatty agent spends those shared quotas and starves the dispatcher.
"""

from __future__ import annotations

from dataclasses import dataclass

from contract.names import DISPATCHER, WS_CONNECT, WS_DISCONNECT, WS_MESSAGE


@dataclass(frozen=True)
class Throttle:
    rate: int  # steady requests a second
    burst: int  # token bucket size
    reason: str


# Route key → throttle. A route not listed takes the stage default ("*").
STAGE_THROTTLES = {
    "*": Throttle(
        100,
        200,
        "Stage default, i.e. $disconnect: API Gateway calls it once per closed connection, so it never "
        "needs more than $connect's rate; 2x $connect leaves room for a mass disconnect.",
    ),
    "$connect": Throttle(
        50,
        100,
        "A tenth of the account's 500 new connections a second, so an unauthenticated storm cannot take "
        "the region's quota; 3,000 reconnects a minute brings a fleet of thousands back after a deploy "
        "(agents back off and retry on 429). 50/s x ~0.5 s of ws-connect = ~25 concurrent, under its cap.",
    ),
    "$default": Throttle(
        200,
        400,
        "Every agent frame: a heartbeat a minute plus ack and result per job, ~100/s for 1,000 busy "
        "agents; 2x that. One agent is held to 10/s by ws-message's own frame limit (ratelimit.py).",
    ),
}


@dataclass(frozen=True)
class Concurrency:
    reserved: int
    reason: str


# Function short name → reserved concurrency (a floor and a cap). They total 140 of the
# account's 1,000: deploying into an account with a lower quota fails until it is raised,
# because at least 100 must stay unreserved.
RESERVED_CONCURRENCY = {
    DISPATCHER: Concurrency(
        20,
        "Reserved so a WebSocket storm cannot starve job delivery. One batch of 10 takes ~1 s, so 20 "
        "instances deliver ~200 jobs/s; the SQS event source's maximum concurrency is the same 20 so "
        "the poller never invokes into a throttle (a throttled batch would count as a receive).",
    ),
    WS_CONNECT: Concurrency(
        50, "2x what the $connect throttle can keep busy (50/s x ~0.5 s, the secret cached after the first)."
    ),
    WS_MESSAGE: Concurrency(
        50, "The $default throttle (200/s) x ~0.1 s per frame = ~20 busy; 50 absorbs its 400 burst."
    ),
    WS_DISCONNECT: Concurrency(20, "100/s x ~0.05 s (two small DynamoDB calls) = ~5 busy; 4x headroom."),
}
# The SQS event source scales the dispatcher up to this many concurrent batches.
DISPATCHER_MAX_CONCURRENCY = RESERVED_CONCURRENCY[DISPATCHER].reserved
