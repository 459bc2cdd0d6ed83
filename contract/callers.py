"""Who is calling AWS right now: a Lambda function, an SSM Automation document or the on-call CLI.

IAM authorizes a call by the role that makes it. The places that run our code as a role set the
caller here (the sandbox's Lambda runtime for each invocation, its SSM runner for each automation
step, the CLI for each command, the handler tests' fixture); the call recorder the tests and the
sandbox install (sandbox/iam/recorder.py) reads it, and records nothing while it is unset (test
set-up, the sandbox's own provisioning). A context variable, so concurrent invocations on the
sandbox's threads each see their own caller.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

FUNCTION, AUTOMATION, CLI = "function", "automation", "cli"


@dataclass(frozen=True)
class Caller:
    """`kind` (function | automation | cli), the physical name the template gives it (function name,
    document name, CLI command) and `deployment`: which binding of template to resources it ran in."""

    kind: str
    name: str
    deployment: str = ""

    def __str__(self) -> str:
        return f"{self.kind}:{self.name}"


CURRENT: ContextVar[Caller | None] = ContextVar("byoip_aws_caller", default=None)


def current() -> Caller | None:
    """The caller of the AWS call being made, or None outside any role."""
    return CURRENT.get()


@contextmanager
def acting_as(caller: Caller) -> Iterator[Caller]:
    """Run the block as `caller` (restored afterwards, also on error)."""
    token = CURRENT.set(caller)
    try:
        yield caller
    finally:
        CURRENT.reset(token)


@contextmanager
def as_nobody() -> Iterator[None]:
    """Run the block as no caller: a test harness's own reads and moves made while a function's
    invocation is in progress are not that function's calls (a handler it invokes sets its own)."""
    token = CURRENT.set(None)
    try:
        yield
    finally:
        CURRENT.reset(token)
