"""Log groups the stack creates itself, so retention is set and roles can be scoped to them."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_logs as logs
from constructs import Construct

LOG_RETENTION = logs.RetentionDays.ONE_MONTH


def retained_log_group(scope: Construct, cid: str, name: str) -> logs.LogGroup:
    """`name` with the stack's retention; kept on stack deletion (logs outlive incidents)."""
    return logs.LogGroup(
        scope, cid, log_group_name=name, retention=LOG_RETENTION, removal_policy=RemovalPolicy.RETAIN
    )
