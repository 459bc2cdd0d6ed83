"""Game days of the quiet failure modes: what breaks without raising an error (monitoring/failure_modes.py).

Each one injects its mode the way it happens in production (a grant taken away by a deploy, a
schedule or an event source mapping disabled, a stage throttle exhausted by one tenant, an
automation or a rotation failing), holds the outage until the mode's first page and a while
after it, rolls back, and waits for recovery. The runner judges the page: one of the mode's
paging alarms must email within its bound (5 production minutes) and before the rollback.
"""

from __future__ import annotations

import importlib

from contract.names import DISPATCHER, DLQ, LEASE_REAPER, SECRET_ROTATION, WS_CONNECT, Names
from lambdas.common.tables import AGENTS
from sandbox.agent import AgentBehaviour
from sandbox.gameday.runner import GameDay, ScenarioFailed, mode_of
from sandbox.iam.revoke import revoked
from sandbox.poller import Schedule

# After the first page the outage lasts this long (production minutes) before the rollback: the
# page must come *during* the outage, and the other signals of the mode get time to show too.
HOLD_AFTER_PAGE_MIN = 3
# How long a game day waits for the first page before it gives up (the judge then says how late
# or missing it was); longer than any mode's bound so a late page is measured, not cut off.
PAGE_TIMEOUT_MIN = 15
# The edge game day: the stage's $default throttle for a 10-agent fleet (production frames a second,
# burst). The fleet's frames peak at ~0.7 a production second (40 a minute: heartbeats every 2
# minutes, an ack and a result per job, reconnects), so 1/s with a burst of 20 carries it; the
# flooder's frame every 20 real ms (2.5 a production second at 20x) takes every token, and 90 or
# more refusals a minute pass EdgeThrottled's floor. Every admitted frame runs ws-message against
# moto, which serves one request at a time: a throttle that admits more (3/s is 60 invocations a
# real second at 20x) backs the sandbox up for half an hour after the flood, a compression artifact.
FLOOD_STAGE_THROTTLE = (1.0, 20)
FLOOD_GAP_S = 0.02  # real seconds between the flooder's frames
FLOODER = "agent-flood"
DDB_WRITES = ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem")


def wait_page(g: GameDay, scenario: str) -> None:
    """Wait for the first ALARM email of one of the scenario's mode's paging alarms; then hold."""
    mode = mode_of(scenario)
    if mode is None:
        raise ScenarioFailed(f"{scenario} is not the game day of any failure mode")
    start = g.fault_time or g.clock.now()

    def paged() -> bool:
        return bool(g.pages_of(mode, start))

    try:
        g.wait_until(paged, PAGE_TIMEOUT_MIN, f"a page from {', '.join(mode.pages)}", every=0.2)
    except ScenarioFailed:
        pass  # the runner's judge says the page never came; the rollback and recovery still run
    g.wait_minutes(HOLD_AFTER_PAGE_MIN)


def drop_every_connection(g: GameDay) -> None:
    """Every agent loses its connection (network blip, gateway restart): they all reconnect."""
    for connection_id in list(g.box.gateway.connections):
        g.box.gateway.drop(connection_id)


# The connect SLI's burn alarms clear only once their 30-minute window slid past the outage's failed
# connects: recovery takes about 36 production minutes on an idle machine, and more where the
# machine is busy (the outage then lasts longer in production time). The bound is twice the usual.
CONNECT_SLI_RECOVER_MIN = 120


def _restart_environments() -> None:
    """A deploy starts new execution environments: the cached signing keys are gone."""
    importlib.import_module("lambdas.common.keys").clear_cache()


def connect_denied(g: GameDay) -> None:
    agents = Names(g.box.options.stage).table(AGENTS.short)
    g.fault("a deploy takes away ws-connect's writes on the agents table; every agent reconnects")
    with revoked(Names(g.box.options.stage).function(WS_CONNECT), DDB_WRITES, f"table/{agents}"):
        drop_every_connection(g)
        wait_page(g, "connect-denied")
    g.action("rollback: ws-connect's grant on the agents table restored")
    g.wait_recovered(CONNECT_SLI_RECOVER_MIN)


def secret_unreadable(g: GameDay) -> None:
    names = Names(g.box.options.stage)
    g.fault("a deploy takes away ws-connect's read of the JWT secret; every agent reconnects")
    with revoked(names.function(WS_CONNECT), ("secretsmanager:GetSecretValue",), ":secret:"):
        _restart_environments()
        drop_every_connection(g)
        wait_page(g, "secret-unreadable")
    g.action("rollback: ws-connect may read the JWT secret again")
    g.wait_recovered(CONNECT_SLI_RECOVER_MIN)


def dispatcher_disabled(g: GameDay) -> None:
    dispatcher = Names(g.box.options.stage).function(DISPATCHER)
    (poller,) = [p for p in g.box.pollers if p.mapping.function == dispatcher]
    g.fault("the dispatcher's event source mapping is disabled (nothing invokes dispatcher-sqs)")
    poller.enabled.clear()
    try:
        wait_page(g, "dispatcher-disabled")
    finally:
        g.action("rollback: the event source mapping is enabled again")
        poller.enabled.set()
    g.wait_recovered()


def _schedule_of(g: GameDay, function: str) -> Schedule:
    (schedule,) = [s for s in g.box.schedules if s.function == function]
    return schedule


def reaper_stopped(g: GameDay) -> None:
    schedule = _schedule_of(g, Names(g.box.options.stage).function(LEASE_REAPER))
    g.fault("the lease-reaper's EventBridge rule is disabled: nothing invokes it, nothing fails")
    schedule.enabled = False
    try:
        wait_page(g, "reaper-stopped")
    finally:
        g.action("rollback: the rule is enabled again")
        schedule.enabled = True
    g.wait_recovered()


def redrive_failing(g: GameDay) -> None:
    agent_id, creator = g.agents[-1]
    g.fault("a deploy takes away GuardedRedrive's SQS grants while jobs reach the DLQ")
    with revoked("-GuardedRedrive", ("sqs:*",), ":"):
        g.producer.send_together(agent_id, creator, 3, critical=True, queue_url=g.box.queue_url(DLQ))
        wait_page(g, "redrive-failing")
    g.action("rollback: GuardedRedrive may move messages again")
    g.wait_recovered()


def rotation_failing(g: GameDay) -> None:
    rotation = Names(g.box.options.stage).function(SECRET_ROTATION)
    g.fault("the JWT key rotation fails: the rotation function may not write the new version")
    with revoked(rotation, ("secretsmanager:PutSecretValue",), ":secret:"):
        _rotate(g)
        wait_page(g, "rotation-failing")
    g.action("rollback: the rotation function's grant restored; Secrets Manager rotates again")
    if not _rotate(g):
        raise ScenarioFailed("the rotation failed again after the rollback")
    g.wait_recovered()


def _rotate(g: GameDay) -> bool:
    """Secrets Manager starts a rotation (its four steps); False if the rotation function failed."""
    from sandbox.lambda_runtime import InvocationError

    try:
        g.box.rotate_jwt_secret()
    except InvocationError as exc:
        g.note(f"rotation failed: {exc}")
        return False
    return True


def edge_throttled(g: GameDay) -> None:
    """One tenant's agent sends frames as fast as it can: past the stage throttle, API Gateway
    answers 429 at the edge to every agent's frames, and no function runs to notice."""
    creator = g.agents[1][1]
    rate, burst = FLOOD_STAGE_THROTTLE
    g.box.gateway.edge.set_throttle("$default", rate, burst)
    g.note(
        f"setup: the stage's $default throttle scaled to this {len(g.agents)}-agent fleet: {rate:g} frame/s,"
        f" burst {burst} (production's 200/s is sized for a thousand agents)"
    )
    g.fault(
        f"one tenant ({creator}) floods the stage: an agent sends a frame every {FLOOD_GAP_S * 1000:g} ms"
    )
    flood = AgentBehaviour(g.clock.real(5), False, FLOOD_GAP_S)
    g.fleet.add(FLOODER, creator, flood)
    wait_page(g, "edge-throttled")
    g.action(f"mitigation: {creator}'s flooding agent is revoked: its connection is cut, it stays off")
    g.fleet.offline([FLOODER], abrupt=True)  # a close handshake would queue behind its own flood
    g.wait_recovered()
