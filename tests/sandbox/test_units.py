"""Small parts: time compression, metric filters, EMF, the SSM script runner's scaled time."""

from __future__ import annotations

import json

import pytest

from sandbox.clock import SimClock, prod_minutes
from sandbox.log_metrics import LogMetrics, MetricFilter, parse_pattern
from sandbox.metrics import MetricStore
from sandbox.ssm import _scaled_time, _substitute
from sandbox.template import TemplateError


def test_time_compression_scales_production_durations():
    clock = SimClock(speed=60, real_start=1000.0)
    assert clock.scaled_int(360) == 6  # JobsQueue visibility timeout
    assert clock.scaled_int(10) == 1  # never below one second (SQS takes whole seconds)
    assert clock.real(600) == 10.0
    assert clock.to_prod(1001.0) == 1060.0
    assert prod_minutes(90) == "1.5 min (production time)"
    with pytest.raises(ValueError, match="invalid speed 0: allowed 1-600"):
        SimClock(speed=0)


def test_metric_filter_terms_and_refusal_of_json_patterns():
    assert parse_pattern('"status=410"') == ("status=410",)
    with pytest.raises(TemplateError, match="only term patterns run in the sandbox"):
        parse_pattern("{ $.status = 410 }")
    store = MetricStore(SimClock(speed=60))
    stale = MetricFilter("/aws/lambda/d", ("status=410",), "Huntaze/ByoIP/local", "StaleConnections", 1.0)
    sink = LogMetrics(store, [stale])
    sink("/aws/lambda/d", "batch_item_failed jobId=j1 reason=delivery_410 status=410")
    sink("/aws/lambda/d", "batch_item_failed jobId=j2 reason=agent_offline status=404")
    sink("/aws/lambda/other", "status=410 in another log group")
    assert store.total("Huntaze/ByoIP/local", "StaleConnections") == 1.0


def test_emf_lines_become_metrics_in_production_time():
    clock = SimClock(speed=60, real_start=1000.0)
    store = MetricStore(clock)
    line = json.dumps(
        {
            "Stage": "local",
            "BatchItems": 7,
            "BatchItemFailures": 1,
            "_aws": {
                "Timestamp": 1002_000,
                "CloudWatchMetrics": [
                    {
                        "Namespace": "Huntaze/Dispatcher",
                        "Dimensions": [["Stage"]],
                        "Metrics": [{"Name": "BatchItems"}, {"Name": "BatchItemFailures"}],
                    }
                ],
            },
        }
    )
    assert store.put_emf(line) is True
    assert store.put_emf('{"level": "INFO"}') is False
    (sample,) = store.samples("Huntaze/Dispatcher", "BatchItems", {"Stage": "local"})
    assert (sample.timestamp, sample.value) == (1120.0, 7.0)  # 2 real seconds = 2 production minutes
    assert store.total("Huntaze/Dispatcher", "BatchItemFailures", {"Stage": "local"}) == 1.0


def test_ssm_parameters_and_scaled_time():
    params = {"DlqUrl": "http://q", "MaxMessages": 100}
    payload = {"DlqUrl": "{{ DlqUrl }}", "MaxMessages": "{{MaxMessages}}", "Note": "to {{ DlqUrl }}"}
    assert _substitute(payload, params) == {"DlqUrl": "http://q", "MaxMessages": 100, "Note": "to http://q"}
    shim = _scaled_time(SimClock(speed=600))
    before = shim.monotonic()
    shim.sleep(60)  # one production minute is 0.1 s at 600x
    assert 55 <= shim.monotonic() - before <= 120
