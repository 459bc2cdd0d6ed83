"""How long the offline evaluator takes for a week of one-minute data across all alarms.

    .venv/bin/python benchmarks/evaluator_bench.py [--days 7] [--stage prod] [--alert-mode all]
        [--samples 20] [--template cdk.out/HuntazeByoIpStack.template.json]

Feeds one datapoint a minute to every metric the synthesized template's alarms read
(`--samples` raw samples a minute to percentile metrics), then evaluates every alarm and the
composite each minute, as CloudWatch does. Prints the time to feed and to evaluate, and the
rates. Synthesis (or the disk cache) is outside the timed part.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from monitoring.evaluator import Evaluator, TemplateResolver, load_alarms  # noqa: E402
from monitoring.evaluator.runner import T0, stack_name  # noqa: E402
from monitoring.evaluator.store import percentile_of  # noqa: E402
from monitoring.evaluator.templates import cached_template, file_template  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=7.0)
    parser.add_argument("--stage", default="prod")
    parser.add_argument("--alert-mode", default="all", choices=("composite", "all"))
    parser.add_argument("--samples", type=int, default=20, help="raw samples a minute for percentile metrics")
    parser.add_argument("--template", type=Path, help="a synthesized template instead of synthesizing")
    args = parser.parse_args(argv)

    template = file_template(args.template) if args.template else cached_template(args.stage, args.alert_mode)
    alarms = load_alarms(template, TemplateResolver(template, stack_name=stack_name(args.stage)))
    percentile_metrics = {
        q.metric
        for alarm in alarms.metric_alarms.values()
        for q in alarm.queries
        if q.metric is not None and q.stat and percentile_of(q.stat) is not None
    }
    metrics = sorted(alarms.metrics())
    minutes = int(args.days * 24 * 60)
    rng = random.Random(7)
    ev = Evaluator(alarms, initial_state="OK")

    started = time.perf_counter()
    datapoints = samples = 0
    for minute in range(minutes):
        ts = T0 + minute * 60
        for metric in metrics:
            count = args.samples if metric in percentile_metrics else 1
            for _ in range(count):
                ev.put(metric, ts, rng.uniform(0, 5))
            datapoints += 1
            samples += count
    fed = time.perf_counter() - started

    started = time.perf_counter()
    ev.run(T0 + 60, T0 + minutes * 60)
    evaluated = time.perf_counter() - started

    evaluations = minutes * (len(alarms.metric_alarms) + len(alarms.composites))
    print(
        f"template: stage {args.stage}, {args.alert_mode} mode: {len(alarms.metric_alarms)} metric alarms, "
        f"{len(alarms.composites)} composite, {len(metrics)} metrics"
    )
    print(
        f"data: {args.days:g} days x 1-minute = {minutes} minutes; "
        f"{datapoints} datapoints ({samples} raw samples)"
    )
    print(f"feed: {fed:.2f} s ({samples / fed:,.0f} samples/s)")
    print(
        f"evaluate: {evaluated:.2f} s for {minutes} evaluation steps = {evaluations} alarm evaluations "
        f"({datapoints / evaluated:,.0f} datapoints/s, {evaluations / evaluated:,.0f} alarm evaluations/s)"
    )
    print(
        f"total: {fed + evaluated:.2f} s; "
        f"transitions: {len(ev.transitions)}, notifications: {len(ev.notifications)}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
