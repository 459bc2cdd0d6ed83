"""Sandbox fixtures: the stage-local template (synthesized once per worker) and a running sandbox."""

from __future__ import annotations

import pytest

from lambdas.common.auth import mint_token
from sandbox.agent import AgentBehaviour
from sandbox.fleet import Fleet
from sandbox.system import Sandbox, SandboxOptions
from sandbox.template import synthesize

# Production seconds per real second in the tests' sandboxes and game days. At 60x (the drills'
# speed) a production minute is one real second, and the SLOs' one-minute deadlines measure how
# idle the machine is; at 20x they measure the system, on a busy 2-core machine too.
TEST_SPEED = 20.0


@pytest.fixture(scope="session")
def local_template():
    """HuntazeByoIpStack-local as `make synth STAGE=local` would write it (no bundling)."""
    return synthesize("local", "composite")


@pytest.fixture(scope="module")
def box(local_template, tmp_path_factory):
    """A running sandbox at 20x (5-minute leases last 15 s: slack for a loaded test machine)."""
    sandbox = Sandbox(
        SandboxOptions(template=local_template, speed=TEST_SPEED, workdir=tmp_path_factory.mktemp("sandbox"))
    ).start()
    yield sandbox
    sandbox.stop()


@pytest.fixture(scope="module")
def fleet(box):
    """Three agents of creator-1 (heartbeat every 2 production minutes)."""
    secret = box.jwt_secret()
    agents = Fleet(box.gateway.url, lambda agent, creator: mint_token(secret, agent, creator))
    for i in range(3):
        agents.add(f"agent-{i + 1}", "creator-1", AgentBehaviour(0.01, False, box.clock.real(120)))
    assert agents.wait_online(timeout=30)
    yield agents
    agents.stop()
