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
# One agent: the probe runs once a minute with a timeout under a minute, so runs never overlap.
PROBE_AGENT = "probe-1"
PROBE_CLAIM = "probe"


def is_probe(creator_id: object) -> bool:
    """True for the probe's creator: its jobs skip limits, breakers and SLI metrics."""
    return creator_id == PROBE_CREATOR
