"""The confused-deputy guard: an AWS service principal acts only for this account's own resources.

Every trust or resource policy naming a service principal carries these conditions (a template-wide
test, tests/infra/test_source_conditions.py, fails on one that does not). Plain dicts: CDK tokens
(the stack's account) pass through as strings.
"""

from __future__ import annotations

from typing import Any


def source_conditions(account: str, source_arn: str) -> dict[str, Any]:
    """`aws:SourceAccount` equals `account` and `aws:SourceArn` matches `source_arn` (ArnLike)."""
    return {"StringEquals": {"aws:SourceAccount": account}, "ArnLike": {"aws:SourceArn": source_arn}}
