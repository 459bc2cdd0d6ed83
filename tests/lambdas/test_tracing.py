"""X-Ray: every handler runs inside Powertools Tracer, which records each AWS call as a subsegment."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

from contract.names import FUNCTIONS

ROOT = Path(__file__).resolve().parents[2]

# Runs as Lambda would run a traced invocation: the facade segment from _X_AMZN_TRACE_ID, the X-Ray
# daemon's address a UDP socket of this script. A separate process: an enabled Tracer is global.
LAMBDA_LIKE = r"""
import json, os, socket
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind(("127.0.0.1", 0))
sock.settimeout(2)
os.environ.update({
    "AWS_LAMBDA_FUNCTION_NAME": "byoip-qa-ws-message", "LAMBDA_TASK_ROOT": "/var/task",
    "_X_AMZN_TRACE_ID": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
    "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:%d" % sock.getsockname()[1], "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
})
from moto import mock_aws
with mock_aws():
    import boto3
    from lambdas.common.tracing import traced

    @traced
    def handler(event, context):
        boto3.client("sqs", region_name="us-east-1").list_queues()

    handler({}, None)
sent = []
try:
    while True:
        sent.append(sock.recv(65535).decode().split("\n", 1)[1])
except socket.timeout:
    pass
print(json.dumps([json.loads(s) for s in sent]))
"""


def test_every_handler_runs_inside_the_tracer() -> None:
    for function in FUNCTIONS:
        handler = importlib.import_module(f"lambdas.{function.replace('-', '_')}.handler").handler
        if getattr(handler, "_runs_as_its_function", False):  # the tests' own binding (conftest.py)
            handler = handler.__wrapped__
        assert handler.__qualname__ == "handler" and handler.__code__.co_name == "decorate", (
            f"{function}'s handler is not traced"
        )  # Powertools' capture_lambda_handler wrapper, named after the handler it wraps


def test_in_lambda_each_aws_call_is_a_subsegment_of_the_handlers() -> None:
    out = subprocess.run(
        [sys.executable, "-c", LAMBDA_LIKE], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True
    )
    segments = {s["name"]: s for s in json.loads(out.stdout.strip().splitlines()[-1])}
    handler, call = segments["## handler"], segments["sqs"]
    assert handler["trace_id"] == "1-5759e988-bd862e3fe1be46a994272793"
    assert handler["parent_id"] == "53995c3f42cd8ad8"  # the invocation's facade segment
    assert call["parent_id"] == handler["id"] and call["aws"]["operation"] == "ListQueues"
    assert "metadata" not in handler  # no response or error recorded: an answer may carry agent data


def test_outside_lambda_the_tracer_sends_nothing() -> None:
    from lambdas.common.tracing import tracer

    assert tracer.disabled  # tests, the sandbox and the CLI: no AWS_LAMBDA_FUNCTION_NAME
