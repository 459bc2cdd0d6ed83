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
from stacks.capacity import FRAMES_PER_AGENT_MINUTE, RECONNECT_S, sizing

# The fleet the edge is sized for (docs/capacity.md): agents connected at once. Every number below
# comes from the capacity model's sizing for it (stacks/capacity.py); a larger fleet raises this.
FLEET_AGENTS = 1_000
SIZED = sizing(FLEET_AGENTS)
HONEST_FRAMES_PER_AGENT_MINUTE = FRAMES_PER_AGENT_MINUTE
FLEET_RECONNECT_SECONDS = RECONNECT_S


@dataclass(frozen=True)
class Throttle:
    rate: int  # steady requests a second
    burst: int  # token bucket size
    reason: str


# Route key → throttle. A route not listed takes the stage default ("*").
STAGE_THROTTLES = {
    "*": Throttle(
        SIZED.other_rate,  # 100
        SIZED.other_burst,
        "Stage default, i.e. $disconnect: API Gateway calls it once per closed connection, so it never "
        "needs more than $connect's rate; 2x $connect leaves room for a mass disconnect.",
    ),
    "$connect": Throttle(
        SIZED.connect_rate,  # 50
        SIZED.connect_burst,
        "The fleet (FLEET_AGENTS) reconnecting within FLEET_RECONNECT_SECONDS after a deploy: 1,000 / 20 s; "
        "a tenth of the account's 500 new connections a second, so an unauthenticated storm cannot take "
        "the region's quota (agents back off and retry on 429). 50/s x ~0.5 s of ws-connect = ~25 "
        "concurrent, under its cap.",
    ),
    "$default": Throttle(
        SIZED.default_rate,  # 200
        SIZED.default_burst,
        "Every agent frame: FLEET_AGENTS x HONEST_FRAMES_PER_AGENT_MINUTE / 60 = 100/s; 2x that, burst "
        "4x. ws-message holds one agent to 10/s and one creator to a quarter of this rate (ratelimit.py); "
        "the edge counts a frame before ws-message refuses it (docs/contracts.md, Capacity and limits).",
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
        SIZED.dispatcher,  # 20
        "Reserved so a WebSocket storm cannot starve job delivery. One batch of 10 takes ~1 s, so 20 "
        "instances deliver ~200 jobs/s; the SQS event source's maximum concurrency is the same 20 so "
        "the poller never invokes into a throttle (a throttled batch would count as a receive).",
    ),
    WS_CONNECT: Concurrency(
        SIZED.ws_connect,
        "2x what the $connect throttle can keep busy (50/s x ~0.5 s, the secret cached after the first).",
    ),
    WS_MESSAGE: Concurrency(
        SIZED.ws_message,
        "The $default throttle (200/s) x ~0.1 s per frame = ~20 busy; 1.25 x its 400 burst's 40 = 50.",
    ),
    WS_DISCONNECT: Concurrency(
        SIZED.ws_disconnect, "100/s x ~0.05 s (two small DynamoDB calls) = ~5 busy; 4x headroom."
    ),
}
# The SQS event source scales the dispatcher up to this many concurrent batches.
DISPATCHER_MAX_CONCURRENCY = RESERVED_CONCURRENCY[DISPATCHER].reserved

# ws-message's ceiling per creator (frames a minute): a quarter of `$default`. The stack passes
# lambdas/common/settings.py's budgets; tests/infra/test_stack_limits.py holds them to this arithmetic.
CREATOR_FRAMES_PER_MINUTE = SIZED.creator_frames_per_minute  # 200 x 60 / CREATOR_SHARE_OF_DEFAULT = 3,000
