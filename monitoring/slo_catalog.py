"""The SLO catalog: what users are promised, and the burn-rate alerts derived from it.

Beside the alarm catalog and in its style: data, no CDK, every number with its reason. The
burn alarms (`SLO_ALARMS`) and their composites (`SLO_COMPOSITES`) are derived here once;
the monitoring layer, the runbook, the dashboards and the alarm tests read them.

Windows and factors are the SRE workbook's (chapter "Alerting on SLOs", table of
recommended parameters for a 30-day budget, kept for our 28 days): page at 14.4x over 1 h
and 5 min (2 % of the budget in an hour), page at 6x over 6 h and 30 min (5 % in six hours),
ticket at 1x over 3 days and 6 h (10 % in three days).

CloudWatch limits checked (PutMetricAlarm, CloudWatch User Guide "Alarm limits"):
- Period x EvaluationPeriods may not exceed 7 days (604,800 s), or 1 day when the period is
  under an hour. Every window here is one period of its own length, evaluated once:
  5 min, 30 min (< 1 h, <= 1 day), 1 h, 6 h and 3 days (>= 1 h, <= 7 days). No window had to
  be adapted: the 3-day window is a 259,200 s period x 1.
- A metric-math alarm reads at most 10 metrics and 20 queries: each burn alarm reads 2 or 3.
- The alarm evaluates a sliding window (the default `EvaluationWindow`): a 1 h period is the
  last 60 minutes at every evaluation, not the last clock hour.
"""

from __future__ import annotations

from lambdas.common import metrics as m
from lambdas.common.settings import DEFAULT_ASSIGN_DEADLINE_SECONDS
from monitoring.slo_spec import SLO, BurnAlert, Window, burn_alarms, burn_composites
from monitoring.spec import AlarmSpec, CompositeSpec, Dim, Metric

FIVE_MINUTES = Window("5m", 300)
THIRTY_MINUTES = Window("30m", 1_800)
ONE_HOUR = Window("1h", 3_600)
SIX_HOURS = Window("6h", 21_600)
THREE_DAYS = Window("3d", 259_200)

ALERTS: tuple[BurnAlert, ...] = (
    BurnAlert(
        "FastBurn",
        ONE_HOUR,
        FIVE_MINUTES,
        14.4,
        page=True,
        reason="2 % of the 28-day budget gone in one hour: at this rate it is empty in under two days.",
    ),
    BurnAlert(
        "SustainedBurn",
        SIX_HOURS,
        THIRTY_MINUTES,
        6,
        page=True,
        reason="5 % of the budget gone in six hours: empty in under five days.",
    ),
    BurnAlert(
        "SlowBurn",
        THREE_DAYS,
        SIX_HOURS,
        1,
        page=False,
        reason="10 % of the budget gone in three days: it runs out before the 28 days do; a ticket.",
    ),
)

JOB_SUCCESS = SLO(
    id="JobSuccess",
    title="Job success",
    meaning=(
        "Of the jobs that reached an agent, the fraction that completed (failed: the agent's final "
        "failure, or the last lease expired without a result)."
    ),
    objective=0.999,
    period_days=28,
    # A job that reached an agent and failed is a post that did not go out. One in a thousand
    # (about 40 minutes of total failure in 28 days) leaves room for sites pushing back, while
    # a 2 % failure rate pages within the hour (burn 20 > 14.4). Retryable failures that are
    # re-queued are not outcomes; only the final one counts.
    reason="one job in a thousand that reached an agent may fail; a 2 % failure rate pages within the hour",
    bad="f",
    valid="c + f",
    using=(
        ("c", Metric(m.BYOIP, m.JOBS_COMPLETED, "Sum", Dim.STAGE)),
        ("f", Metric(m.BYOIP, m.JOBS_FAILED_AFTER_ASSIGN, "Sum", Dim.STAGE)),
    ),
    section="S1",
    alerts=ALERTS,
)

TIME_TO_ASSIGN = SLO(
    id="TimeToAssign",
    title="Time to assign",
    meaning=(
        f"The fraction of dispatch attempts that assigned the job to its agent within "
        f"{DEFAULT_ASSIGN_DEADLINE_SECONDS} s of it being queued; a failed attempt (retried) and a "
        f"failed dispatcher invocation are late, and so is a job held for an absent agent once it "
        f"has waited past the deadline (counted once, while it waits: an outage that delivers "
        f"nothing burns the budget during the outage). Jobs held for an agent that said goodbye or "
        f"never connected, or by the creator's limits, and bad input are not counted."
    ),
    objective=0.995,
    period_days=28,
    # Waiting is not losing: 1 in 200 may wait over a minute (reconnecting agents, throttles,
    # a retry after a 410). When every attempt is late, the 1 h window passes 14.4 x 0.5 % =
    # 7.2 % after 5 minutes. A dispatcher that fails whole invocations emits no attempt: each
    # Lambda error counts as one late attempt, a lower bound (a batch holds up to 10 jobs), so
    # at 5 jobs per error the page takes about 17 minutes (s_slo_scenarios.yaml). Jobs waiting
    # for agents that cannot connect are counted by lease-reaper once a minute (`w`), each once
    # when it passes the deadline: at a steady job rate they are 1/12 of the hour's events after
    # 5 minutes (> 7.2 %), so the page comes about 5 minutes after jobs start waiting late
    # (s_connect_outage.yaml). A job counted waiting and then delivered counts a second, on-time
    # attempt (its released message is new): one outage job is one bad and one good event.
    reason="one late assignment in 200 allowed; when every attempt is late it pages within 5 minutes",
    bad="a - o + e + w",
    valid="a + e + w",
    using=(
        ("a", Metric(m.DISPATCHER, m.ASSIGN_ATTEMPTS, "Sum", Dim.STAGE)),
        ("o", Metric(m.DISPATCHER, m.ASSIGNED_ON_TIME, "Sum", Dim.STAGE)),
        ("e", Metric("AWS/Lambda", "Errors", "Sum", Dim.DISPATCHER)),
        ("w", Metric(m.DISPATCHER, m.JOBS_WAITING_LATE, "Sum", Dim.STAGE)),
    ),
    section="S2",
    alerts=ALERTS,
)

_CONNECT = {reason: Metric(m.BYOIP, name, "Sum", Dim.STAGE) for reason, name in m.CONNECT_OUTCOMES.items()}
CONNECT_SUCCESS = SLO(
    id="ConnectSuccess",
    title="Connect success",
    meaning=(
        "Of the agents' `$connect` attempts, the fraction the platform accepted; bad: the JWT "
        "secret unreadable, the agents table refusing the connection, a throttle (each answered "
        "503, which agents retry). A client's invalid or revoked token (401) is not counted."
    ),
    objective=0.995,
    period_days=28,
    # An agent retries a refused connect within seconds, so a failure costs an agent seconds,
    # not jobs: 1 in 200 may fail (DynamoDB or Secrets Manager blips, a reconnect storm's
    # throttles). When every connect fails, both fast windows read 200 (> 14.4) once they hold
    # 10 attempts: a fleet of 10 retrying with backoff pages within 5 minutes (s_connect.yaml).
    reason="one refused connect in 200 allowed (agents retry); all refused pages within 5 minutes",
    bad="s + r + t",
    valid="k + s + r + t",
    using=(
        ("k", _CONNECT["ok"]),
        ("s", _CONNECT["secret_unavailable"]),
        ("r", _CONNECT["register_failed"]),
        ("t", _CONNECT["throttled"]),
    ),
    section="S3",
    alerts=ALERTS,
)

SLOS: tuple[SLO, ...] = (JOB_SUCCESS, TIME_TO_ASSIGN, CONNECT_SUCCESS)
SLO_ALARMS: tuple[AlarmSpec, ...] = tuple(a for slo in SLOS for a in burn_alarms(slo))
SLO_COMPOSITES: tuple[CompositeSpec, ...] = tuple(c for slo in SLOS for c in burn_composites(slo))
SLOS_BY_SECTION = {slo.section: slo for slo in SLOS}
# What stays in ALARM after an incident by design: the burn windows (the hour or days after it
# still hold its bad events) and the tickets (slow burns); the pages clear with the short window.
OUTLIVE_INCIDENTS = frozenset(
    {a.id for a in SLO_ALARMS} | {c.id for c in SLO_COMPOSITES if not c.notify_composite}
)
