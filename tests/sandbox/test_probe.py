"""The black-box probe in a running sandbox: on its schedule from the template, through the gateway."""

from __future__ import annotations

from contract.names import PROBE, WS_CONNECT, Names
from lambdas.common import metrics

NAMES = Names("local")
PROBE_LOG = NAMES.function_log_group(PROBE)


def _runs(box) -> list[float]:
    """ProbeSuccess of every run so far, oldest first."""
    return [s.value for s in box.metrics.samples(metrics.PROBE, metrics.PROBE_SUCCESS, {"Stage": "local"})]


def _latencies(box) -> list:
    """ProbeLatency of every successful run so far."""
    return box.metrics.samples(metrics.PROBE, metrics.PROBE_LATENCY, {"Stage": "local"})


def test_the_probe_succeeds_on_a_healthy_sandbox_and_pages_when_connect_breaks(box):
    # (the waits are generous bounds, in real seconds: a healthy sandbox meets each in a few; a machine
    # busy with other work, as CI under a CPU hog, may take minutes)
    # GIVEN a healthy sandbox: the probe runs on its rate(1 minute) rule, nobody starts it
    # (only a real run records ProbeLatency: the ProbeSuccess=1 samples of the minutes before the
    # start are the seeded heartbeats a running stack would have, sandbox/system.py seed_heartbeats)
    assert box.wait_for(lambda: len(_latencies(box)) >= 3, 240), _runs(box)
    assert 0.0 not in _runs(box)
    assert all(s.value > 0 for s in _latencies(box))
    assert box.logs.grep(PROBE_LOG, "probe ok latencyMs=")
    assert box.alarm_loop.state("ProbeFailed") == "OK"
    # WHEN a deploy breaks ws-connect (every $connect fails, as in the game day)
    seen = len(_runs(box))
    box.runtime.faults[NAMES.function(WS_CONNECT)] = "a deploy broke ws-connect"
    try:
        # THEN the probe records 0 with the step that failed, without erroring itself
        assert box.wait_for(lambda: 0.0 in _runs(box)[seen + 1 :], 120), _runs(box)
        failed = box.logs.grep(PROBE_LOG, "probe failed step=connect reason=status_")
        assert failed, box.logs.lines.get(PROBE_LOG, [])[-5:]
        errors = box.metrics.samples("AWS/Lambda", "Errors", {"FunctionName": NAMES.function(PROBE)})
        assert errors == []
        # AND ProbeFailed pages (it emails in composite mode, the sandbox's default)
        assert box.wait_for(lambda: box.alarm_loop.state("ProbeFailed") == "ALARM", 240)
        # (in composite mode through its held wrapper ProbeFailedPage, to the page topic)
        # (the wrapper is evaluated after its child, so its email may follow a tick later)
        assert box.wait_for(
            lambda: any(
                mail.get("alarm", "").endswith("ProbeFailedPage") and mail.get("route") == "page"
                for mail in box.outbox.read()
            ),
            240,
        ), box.outbox.read()
    finally:
        box.runtime.faults.pop(NAMES.function(WS_CONNECT), None)
    # AND once ws-connect is back the probe succeeds again
    seen = len(_runs(box))
    assert box.wait_for(lambda: 1.0 in _runs(box)[seen + 1 :], 120), _runs(box)
