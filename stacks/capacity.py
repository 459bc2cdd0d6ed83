"""The capacity model: for N connected agents and R jobs a second, which limit binds first.

Two kinds of limits meet here. AWS's published quotas (QUOTAS, each with the page that states it)
and the limits this stack sets itself (stacks/limits.py: stage throttles, reserved concurrency,
ws-message's budgets), which are *sized* from this model for the stated fleet: `sizing(agents)`
gives every throttle and reservation, and stacks/limits.py takes its numbers from it. The demand
side uses the project's own figures (the per-job calls of benchmarks/dispatcher_calls.py, the
protocol's frames per job and per minute), each stated below with where it comes from.
benchmarks/capacity.py prints the model for 1,000, 10,000 and 100,000 agents; docs/capacity.md
reads it. No CDK: the stack, the benchmark and the tests import it alike.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Quota:
    value: float
    what: str
    source: str  # the AWS page that states it
    raisable: bool


_APIGW = "https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html"
_WS = "https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-execution-service-websocket-limits-table.html"
_LAMBDA = "https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html"
_SQS_ESM = "https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html"
_DDB_PARTITION = (
    "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html"
)
_DDB_WARM = "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/warm-throughput-scenarios.html"
_DDB_TXN = "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html"

# AWS's default quotas (per account and Region unless said otherwise), as published.
QUOTAS = {
    "ws_new_connections": Quota(
        500, "new WebSocket connections a second, across all WebSocket APIs of the account", _WS, True
    ),
    "apigw_requests": Quota(
        10_000,
        "API Gateway requests a second across HTTP, REST, WebSocket and WebSocket callback APIs "
        "(frames in and PostToConnection out both count; burst 5,000)",
        _APIGW,
        True,
    ),
    "ws_connection_s": Quota(7_200, "seconds a WebSocket connection may last", _WS, False),
    "ws_idle_s": Quota(600, "seconds a WebSocket connection may stay idle", _WS, False),
    "lambda_concurrency": Quota(1_000, "concurrent Lambda executions", _LAMBDA, True),
    "lambda_unreserved": Quota(100, "concurrency that must stay unreserved", _LAMBDA, False),
    "sqs_esm_batches": Quota(
        1_000, "concurrent batches one SQS event source mapping processes", _SQS_ESM, False
    ),
    "sqs_esm_ramp": Quota(300, "more concurrent batches a minute an SQS event source adds", _SQS_ESM, False),
    "ddb_partition_wcu": Quota(
        1_000, "write units a second one partition (so one item) takes", _DDB_PARTITION, False
    ),
    "ddb_partition_rcu": Quota(3_000, "read units a second one partition takes", _DDB_PARTITION, False),
    "ddb_new_table_wru": Quota(
        4_000,
        "write units a second a new on-demand table takes at once (its warm throughput)",
        _DDB_WARM,
        True,
    ),
}
# A transactional write costs two write units per KB (the items here are < 1 KB).
TRANSACT_WCU = 2  # _DDB_TXN

# --- The project's own figures ------------------------------------------------------------------
# A busy honest agent: a heartbeat a minute plus ~5 job results (frames) a minute.
HEARTBEATS_PER_AGENT_MINUTE = 1
JOBS_PER_AGENT_MINUTE = 5
FRAMES_PER_AGENT_MINUTE = HEARTBEATS_PER_AGENT_MINUTE + JOBS_PER_AGENT_MINUTE
# WebSocket messages per job (benchmarks/dispatcher_calls.py): job.assign out, job.result in, its ack out.
POSTS_PER_JOB = 2  # PostToConnection: the assign and the result's ack
POSTS_PER_HEARTBEAT = 1  # the heartbeat's answer
# After a deploy or a regional blip the whole fleet reconnects; agents back off over ~20 s.
RECONNECT_S = 20
# Handler time (benchmarks/dispatcher_calls.py's billed estimates are below these; rounded up).
DISPATCH_BATCH = 10  # the SQS event source's batch size
DISPATCH_BATCH_S = 1.0  # one batch of 10
FRAME_S = 0.1  # ws-message, one frame
CONNECT_S = 0.5  # ws-connect (the secret cached after the first)
DISCONNECT_S = 0.05  # ws-disconnect: two small DynamoDB calls
# DynamoDB write units per job in the default shape (benchmarks/dispatcher_calls.py --limited 0.2).
JOB_WRU = 1.60 + 2.14
# Writes on one creator's items per job. Limited creator: its CreatorLimits item is in the dispatch
# transaction (admit) and the result's (release): 2 transactional writes. Every creator: its budget
# item takes a write per FLUSH_EVERY (5) frames per container (ratelimit.py).
LIMITED_CREATOR_WCU_PER_JOB = 2 * TRANSACT_WCU
BUDGET_WCU_PER_FRAME = 1 / 5

# How much room the stack leaves over the fleet's steady demand.
DEFAULT_HEADROOM = 2  # `$default` rate = 2 x the fleet's frames; burst 2 x the rate
CONNECT_BURST = 2  # `$connect` burst = 2 x its rate
CONNECT_SHARE = 0.5  # `$connect` takes at most half the account's new connections a second
DISCONNECT_OVER_CONNECT = 2  # a mass disconnect: 2 x `$connect`
CONNECT_RESERVE = 2  # ws-connect reserves 2 x what `$connect` keeps busy
MESSAGE_RESERVE = 1.25  # ws-message reserves 1.25 x what a full `$default` burst keeps busy
DISCONNECT_RESERVE = 4  # ws-disconnect reserves 4 x what `*` keeps busy
CREATOR_SHARE_OF_DEFAULT = 4  # no creator may take more than a quarter of `$default`


@dataclass(frozen=True)
class Sizing:
    """What the stack deploys for a fleet of `agents` (stacks/limits.py reads it)."""

    agents: int
    connect_rate: int
    connect_burst: int
    default_rate: int
    default_burst: int
    other_rate: int  # the stage default `*`, i.e. `$disconnect`
    other_burst: int
    dispatcher: int
    ws_connect: int
    ws_message: int
    ws_disconnect: int
    creator_frames_per_minute: int

    @property
    def reserved(self) -> int:
        return self.dispatcher + self.ws_connect + self.ws_message + self.ws_disconnect


def _up(x: float, step: int = 10) -> int:
    """Round up to a multiple of `step` (reservations and rates are stated in round numbers)."""
    return step * math.ceil(round(x / step, 6))


def sizing(agents: int) -> Sizing:
    # The fleet back within RECONNECT_S, but never more than CONNECT_SHARE of the account's
    # new-connection quota (other WebSocket APIs of the account keep connecting during a storm).
    connect = min(math.ceil(agents / RECONNECT_S), int(QUOTAS["ws_new_connections"].value * CONNECT_SHARE))
    default = DEFAULT_HEADROOM * agents * FRAMES_PER_AGENT_MINUTE // 60
    other = DISCONNECT_OVER_CONNECT * connect
    return Sizing(
        agents=agents,
        connect_rate=connect,
        connect_burst=CONNECT_BURST * connect,
        default_rate=default,
        default_burst=DEFAULT_HEADROOM * default,
        other_rate=other,
        other_burst=2 * other,
        # every job result is a `$default` frame, so deliver as many jobs a second as it admits
        dispatcher=_up(default / DISPATCH_BATCH * DISPATCH_BATCH_S),
        ws_connect=_up(CONNECT_RESERVE * connect * CONNECT_S),
        ws_message=_up(MESSAGE_RESERVE * DEFAULT_HEADROOM * default * FRAME_S),
        ws_disconnect=_up(DISCONNECT_RESERVE * other * DISCONNECT_S),
        creator_frames_per_minute=default * 60 // CREATOR_SHARE_OF_DEFAULT,
    )


@dataclass(frozen=True)
class Load:
    name: str
    demand: float  # per second (or busy executions)
    limit: float
    what: str

    @property
    def use(self) -> float:
        return self.demand / self.limit


def loads(agents: int, jobs_per_s: float, deployed: Sizing) -> list[Load]:
    """Every limit the shape (agents, jobs a second) meets, with the demand it puts on it."""
    frames = agents * HEARTBEATS_PER_AGENT_MINUTE / 60 + jobs_per_s
    posts = agents * POSTS_PER_HEARTBEAT / 60 + POSTS_PER_JOB * jobs_per_s
    connects = agents / QUOTAS["ws_connection_s"].value  # every connection ends within 2 h and comes back
    dispatcher_busy = jobs_per_s / DISPATCH_BATCH * DISPATCH_BATCH_S
    return [
        Load("$default stage throttle", frames, deployed.default_rate, "frames/s (heartbeats + results)"),
        Load("dispatcher reserved concurrency", dispatcher_busy, deployed.dispatcher, "busy batches"),
        Load("ws-message reserved concurrency", frames * FRAME_S, deployed.ws_message, "busy frames"),
        Load(
            "API Gateway account requests",
            frames + posts + 2 * connects,
            QUOTAS["apigw_requests"].value,
            "requests/s (frames, PostToConnection, connects and disconnects)",
        ),
        Load(
            "WebSocket new connections (account)",
            connects,
            QUOTAS["ws_new_connections"].value,
            "connects/s (each connection ends within 2 h)",
        ),
        Load(
            "Lambda account concurrency",
            deployed.reserved + QUOTAS["lambda_unreserved"].value,
            QUOTAS["lambda_concurrency"].value,
            "reserved + the unreserved 100",
        ),
        Load(
            "SQS event source batches",
            dispatcher_busy,
            QUOTAS["sqs_esm_batches"].value,
            "busy batches (the mapping's own ceiling)",
        ),
        Load(
            "DynamoDB new on-demand table writes",
            jobs_per_s * JOB_WRU,
            QUOTAS["ddb_new_table_wru"].value,
            "write units/s on JobsTable (before it has scaled)",
        ),
    ]


def first_binding(agents: int, jobs_per_s: float, deployed: Sizing) -> Load:
    return max(loads(agents, jobs_per_s, deployed), key=lambda load: load.use)


def default_jobs_per_s(agents: int) -> float:
    """The default shape: every agent busy with JOBS_PER_AGENT_MINUTE."""
    return agents * JOBS_PER_AGENT_MINUTE / 60


def largest_fleet(deployed: Sizing) -> tuple[int, Load]:
    """The largest fleet of busy agents (the default shape) the deployed limits carry, and what
    binds just past it."""
    lo, hi = 1, 10_000_000
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if first_binding(mid, default_jobs_per_s(mid), deployed).use <= 1:
            lo = mid
        else:
            hi = mid - 1
    return lo, first_binding(lo + 1, default_jobs_per_s(lo + 1), deployed)


@dataclass(frozen=True)
class HotCreator:
    agents: int
    jobs_per_s: float  # the most one creator's agents can complete
    binding: str


def hot_creator(deployed: Sizing, *, agents: int, limited: bool) -> HotCreator:
    """The largest job rate one creator's items and ceiling take (one partition each)."""
    ceiling = deployed.creator_frames_per_minute / 60 - agents * HEARTBEATS_PER_AGENT_MINUTE / 60
    per_item = QUOTAS["ddb_partition_wcu"].value
    candidates = [(ceiling, "its frame ceiling in ws-message (creator_frames_per_minute, less heartbeats)")]
    candidates.append((per_item / BUDGET_WCU_PER_FRAME, "its budget item's partition (a write per 5 frames)"))
    if limited:
        candidates.append((per_item / LIMITED_CREATOR_WCU_PER_JOB, "its CreatorLimits item's partition"))
    rate, why = min(candidates)
    return HotCreator(agents, max(rate, 0.0), why)


def reconnect_storm_s(agents: int, deployed: Sizing) -> float:
    """How long the whole fleet takes to reconnect through `$connect` (its burst first)."""
    rate = min(deployed.connect_rate, QUOTAS["ws_new_connections"].value)
    return max(agents - deployed.connect_burst, 0) / rate


@dataclass(frozen=True)
class Action:
    load: str
    use: float
    what: str


# What to do when an AWS quota binds for a resized fleet: raise it, or redesign around a fixed one.
REMEDIES = {
    "Lambda account concurrency": "raise the account's Lambda concurrency quota (Service Quotas)",
    "API Gateway account requests": "raise the account's API Gateway throttle quota; fewer messages per job "
    "(the result's confirmation on the heartbeat answer) and a longer heartbeat take a third off",
    "WebSocket new connections (account)": "raise the account's new-connections quota",
    "DynamoDB new on-demand table writes": "pre-warm JobsTable (WarmThroughput) before the traffic arrives",
    "SQS event source batches": "fixed at 1,000 per mapping: larger batches (BatchSize 10 -> 100 with the "
    "batching window) or jobs sharded over several queues, each with its mapping",
}


def actions(agents: int, jobs_per_s: float, *, warn_at: float = 0.8) -> list[Action]:
    """For a fleet resized by `sizing(agents)`: every AWS quota at or past `warn_at` of its limit."""
    return [
        Action(load.name, load.use, REMEDIES[load.name])
        for load in loads(agents, jobs_per_s, sizing(agents))
        if load.name in REMEDIES and load.use >= warn_at
    ]
