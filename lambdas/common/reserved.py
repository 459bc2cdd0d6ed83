"""The identity reserved for the black-box probe (lambdas/common/probe.py, docs/contracts.md).

The probe is a synthetic agent: every minute it walks an agent's whole path under this creator.
Its jobs must not count as a creator's work, so the dispatcher, the breaker and the SLI counters
skip them, and so this creator must never be a real one: ws-connect accepts a token naming it
only when the token also carries PROBE_CLAIM, which only the probe sets (auth.mint_token's
`probe=True`, called from nowhere else), and never accepts that claim for another creator.
"""

from __future__ import annotations

# `:` is allowed in ids (protocol.ID_SYNTAX) and appears in no creator id this platform issues.
PROBE_CREATOR = "byoip:probe"
# The run of minute m is agent probe-<m % PROBE_AGENTS + 1>: two runs that overlap (an EventBridge
# duplicate, a run late past its minute; in the sandbox at 60x a run can outlast a production minute)
# never share a connection. In AWS a run ends within its 50 s timeout, so 5 is ample; the agents
# table holds five probe agents whatever the uptime.
PROBE_AGENTS = 5
PROBE_CLAIM = "probe"


def probe_agent(minute: int) -> str:
    """The probe's agent id for the run scheduled at epoch minute `minute`."""
    return f"probe-{minute % PROBE_AGENTS + 1}"


def is_probe(creator_id: object) -> bool:
    """True for the probe's creator: its jobs skip limits, breakers and SLI metrics."""
    return creator_id == PROBE_CREATOR
