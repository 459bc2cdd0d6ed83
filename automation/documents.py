"""SSM Automation documents (schemaVersion 0.3) as plain dicts, scripts inlined from modules.

Each remediation script lives in `automation/scripts/` as an importable module (unit-tested
there) and is copied verbatim into an `aws:executeScript` step here, so the code that runs in
AWS is the code the tests ran. Values may be CDK tokens; nothing here imports CDK.
"""

from __future__ import annotations

import inspect
from types import ModuleType
from typing import Any

from automation.scripts import creator_pause, guarded_redrive, redrive_dlq, revoke_tokens
from lambdas.common.protocol import ID_SYNTAX

SCHEMA_VERSION = "0.3"
# aws:executeScript has its own runtime list, not Lambda's. python3.11 is the newest that AWS's own text
# confirms (the notice ending python3.6-3.9 on 2025-09-10 says to move to it; checked 2026-11-30); a
# third-party report (cdklabs/cdk-ssm-documents#158) says python3.12 works too: move once the SSM action
# reference lists it. No end date for executeScript's python3.11 was found; CPython 3.11 ends 2027-10.
# cfn-lint does not check this field, so a value SSM rejects would only fail at deploy.
RUNTIME = "python3.11"
# aws:executeScript stops a script after 600 s; the scripts' own waits stay below it.
STEP_TIMEOUT_SECONDS = 600
# The ids the handlers accept (creator, agent, job), so a document never takes one they refuse.
# ^…$ is what every regex flavour accepts; the runtime's \A…\Z has no portable spelling.
ID_PATTERN = f"^{ID_SYNTAX}$"


def _param(kind: str, description: str, default: Any = None, **extra: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {"type": kind, "description": description, **extra}
    if default is not None:
        spec["default"] = default
    return spec


def _fixed(kind: str, description: str, value: Any) -> dict[str, Any]:
    """A parameter whose only allowed value is this stack's own: a manual run cannot point the
    script at another queue, table or alarm, nor run it as a broader role."""
    return _param(kind, f"{description} Fixed to this stack's.", value, allowedValues=[value])


def _role_param(role_arn: str) -> dict[str, Any]:
    return _fixed("String", "Role the automation runs as (least privilege, deployed by the stack).", role_arn)


def _bounded(description: str, default: int, low: int, high: int) -> dict[str, Any]:
    """An Integer parameter whose script refuses any value outside low-high before it acts."""
    return _param("Integer", f"{description} {low}-{high}; the script refuses other values.", default)


def script_step(
    name: str, module: ModuleType, handler: str, payload: dict[str, str], outputs: dict[str, tuple[str, str]]
) -> dict[str, Any]:
    """An aws:executeScript step running `module.handler`; outputs map name → (selector, type)."""
    return {
        "name": name,
        "action": "aws:executeScript",
        "timeoutSeconds": STEP_TIMEOUT_SECONDS,
        "isEnd": True,
        "inputs": {
            "Runtime": RUNTIME,
            "Handler": handler,
            "Script": inspect.getsource(module),
            "InputPayload": payload,
        },
        "outputs": [
            {"Name": out, "Selector": selector, "Type": kind} for out, (selector, kind) in outputs.items()
        ],
    }


def _document(description: str, parameters: dict[str, Any], step: dict[str, Any]) -> dict[str, Any]:
    return {
        "schemaVersion": SCHEMA_VERSION,
        "description": description,
        "assumeRole": "{{ AutomationAssumeRole }}",
        "parameters": parameters,
        "mainSteps": [step],
        "outputs": [f"{step['name']}.{out['Name']}" for out in step["outputs"]],
    }


def _refs(*names: str) -> dict[str, str]:
    return {name: "{{ " + name + " }}" for name in names}


_REDRIVE_OUTPUTS = {
    "Status": ("$.Payload.status", "String"),
    "Moved": ("$.Payload.moved", "Integer"),
    "Failed": ("$.Payload.failed", "Integer"),
}


def redrive_dlq_document(*, dlq_arn: str, jobs_queue_arn: str, role_arn: str) -> dict[str, Any]:
    """Manual redrive: one StartMessageMoveTask DLQ → JobsQueue, waited for, counts reported."""
    parameters = {
        "SourceArn": _fixed("String", "DLQ to redrive from.", dlq_arn),
        "DestinationArn": _fixed("String", "Queue to move the messages to.", jobs_queue_arn),
        "MaxPerSecond": _bounded(
            "Move rate, messages per second,",
            redrive_dlq.DEFAULT_RATE,
            redrive_dlq.MIN_RATE,
            redrive_dlq.MAX_RATE,
        ),
        "Wait": _param("Boolean", "Wait for the move task to finish and report counts.", True),
        "AutomationAssumeRole": _role_param(role_arn),
    }
    step = script_step(
        "RedriveDlq",
        redrive_dlq,
        "handler",
        _refs("SourceArn", "DestinationArn", "MaxPerSecond", "Wait"),
        _REDRIVE_OUTPUTS,
    )
    return _document(
        "# Redrive the DLQ\nMoves every DLQ message back to JobsQueue (SQS StartMessageMoveTask) at a "
        "bounded rate, waits and reports moved/failed counts. Refuses while a move task is already running. "
        "Fix the cause first (runbook section A).",
        parameters,
        step,
    )


# GuardedRedrive's tunables: description, default, the range its script accepts.
GUARDED_REDRIVE_LIMITS = {
    "MaxMessages": ("Budget: messages handled per run,", 100, "max_messages"),
    "MaxPerSecond": ("Rate bound, messages per second,", 10, "max_per_second"),
    "RedriveBudget": ("Redrives per message before it is quarantined,", 3, "redrive_budget"),
    "MaxWaitSeconds": ("Seconds to wait for the errors alarm to be OK,", 300, "max_wait_seconds"),
    "StartDelaySeconds": (
        "Seconds to wait before anything else (a restart after a failure; with MaxWaitSeconds at most 540),",
        0,
        "start_delay_seconds",
    ),
}
# The redrive-failed rule restarts a failed, timed-out or cancelled run with these: 4 minutes apart
# at least (no hot loop while it keeps failing: at most 15 runs an hour), and a shorter guard
# wait so the two stay below the step's 600 s.
GUARDED_REDRIVE_RESTART = {"StartDelaySeconds": "240", "MaxWaitSeconds": "240"}


def guarded_redrive_document(
    *, dlq_url: str, jobs_queue_url: str, quarantine_url: str, errors_alarm_name: str, role_arn: str
) -> dict[str, Any]:
    """Automatic redrive started by the DLQ alarm: guarded, budgeted, poison pills parked."""
    parameters = {
        "DlqUrl": _fixed("String", "DLQ to drain.", dlq_url),
        "JobsQueueUrl": _fixed("String", "Where transient failures go back to.", jobs_queue_url),
        "QuarantineQueueUrl": _fixed("String", "Where poison pills are parked.", quarantine_url),
        "ErrorsAlarmName": _fixed("String", "Nothing moves unless this alarm is OK.", errors_alarm_name),
        **{
            name: _bounded(description, default, *guarded_redrive.LIMITS[script_name])
            for name, (description, default, script_name) in GUARDED_REDRIVE_LIMITS.items()
        },
        "AutomationAssumeRole": _role_param(role_arn),
    }
    step = script_step(
        "GuardedRedrive",
        guarded_redrive,
        "handler",
        _refs(*[name for name in parameters if name != "AutomationAssumeRole"]),
        {
            "Status": ("$.Payload.status", "String"),
            "Redriven": ("$.Payload.redriven", "Integer"),
            "Quarantined": ("$.Payload.parked", "Integer"),
            "Failed": ("$.Payload.failed", "Integer"),
        },
    )
    return _document(
        "# Guarded DLQ redrive\nStarted when the DLQNotEmpty alarm enters ALARM. Waits (bounded) for the "
        "dispatcher-errors alarm to be OK, then sends transient failures back to JobsQueue and parks poison "
        "pills (bad JSON, missing agentId, redriven too often) in the quarantine queue. Copies before it "
        "deletes; stops at its budget.",
        parameters,
        step,
    )


def _creator_param() -> dict[str, Any]:
    return _param("String", "Creator id.", allowedPattern=ID_PATTERN)


def pause_creator_document(*, limits_table: str, role_arn: str) -> dict[str, Any]:
    """Operator circuit breaker: set CreatorLimits.paused for one creator."""
    parameters = {
        "CreatorId": _creator_param(),
        "Reason": _param("String", "Why (kept on the item as pauseReason).", allowedPattern="^.{1,200}$"),
        "Operator": _param(
            "String", "Who pauses (pausedBy = operator:<Operator>).", allowedPattern=ID_PATTERN
        ),
        "CreatorLimitsTable": _fixed("String", "CreatorLimits table.", limits_table),
        "AutomationAssumeRole": _role_param(role_arn),
    }
    step = script_step(
        "PauseCreator",
        creator_pause,
        "pause_handler",
        _refs("CreatorId", "Reason", "Operator", "CreatorLimitsTable"),
        {"Paused": ("$.Payload.paused", "Boolean")},
    )
    return _document(
        "# Pause a creator\nSets the circuit breaker: the dispatcher holds the creator's jobs until resumed.",
        parameters,
        step,
    )


def resume_creator_document(
    *, limits_table: str, jobs_table: str, jobs_queue_url: str, role_arn: str
) -> dict[str, Any]:
    """Clear the pause flag and release the creator's held jobs back to JobsQueue."""
    parameters = {
        "CreatorId": _creator_param(),
        "MaxJobs": _bounded(
            "Most held jobs released by this run,", 500, creator_pause.MIN_JOBS, creator_pause.MAX_JOBS
        ),
        "CreatorLimitsTable": _fixed("String", "CreatorLimits table.", limits_table),
        "JobsTable": _fixed("String", "JobsTable.", jobs_table),
        "JobsQueueUrl": _fixed("String", "JobsQueue.", jobs_queue_url),
        "AutomationAssumeRole": _role_param(role_arn),
    }
    step = script_step(
        "ResumeCreator",
        creator_pause,
        "resume_handler",
        _refs("CreatorId", "MaxJobs", "CreatorLimitsTable", "JobsTable", "JobsQueueUrl"),
        {"Released": ("$.Payload.released", "Integer")},
    )
    return _document(
        "# Resume a creator\nClears the pause flag and re-queues the creator's held jobs.",
        parameters,
        step,
    )


def _closing_params(agents_table: str, ws_endpoint: str) -> dict[str, Any]:
    """What a document that closes connections needs: their items and the management endpoint."""
    return {
        "AgentsTable": _fixed("String", "AgentsTable.", agents_table),
        "WsEndpoint": _fixed("String", "WebSocket management endpoint (https://…/prod).", ws_endpoint),
    }


def revoke_tokens_document(
    *, agents_table: str, limits_table: str, ws_endpoint: str, role_arn: str
) -> dict[str, Any]:
    """Revoke one agent's tokens (AgentId given) or all of a creator's, and close their connections."""
    parameters = {
        "CreatorId": _creator_param(),
        "AgentId": _param(
            "String",
            "Agent id; empty revokes every agent of the creator.",
            "",
            allowedPattern=f"^$|{ID_PATTERN}",
        ),
        **_closing_params(agents_table, ws_endpoint),
        "CreatorLimitsTable": _fixed("String", "CreatorLimits table.", limits_table),
        "AutomationAssumeRole": _role_param(role_arn),
    }
    step = script_step(
        "RevokeTokens",
        revoke_tokens,
        "handler",
        _refs("CreatorId", "AgentId", "AgentsTable", "CreatorLimitsTable", "WsEndpoint"),
        {
            "Closed": ("$.Payload.closed", "Integer"),
            "Unreachable": ("$.Payload.unreachable", "Integer"),
            "TokensValidAfter": ("$.Payload.tokensValidAfter", "Integer"),
        },
    )
    return _document(
        "# Revoke agent tokens\nTokens issued until now stop working for one agent (AgentId) or for every "
        "agent of the creator: ws-connect refuses them and every open connection of theirs (not only the "
        "current one) is closed at once; one that cannot be reached is closed by ws-message at its next "
        "frame.",
        parameters,
        step,
    )


def emergency_key_rotation_document(
    *, secret_arn: str, agents_table: str, ws_endpoint: str, role_arn: str
) -> dict[str, Any]:
    """Rotate the agents' key now, retire the previous key at once, close the connections it signed."""
    parameters = {
        "SecretId": _fixed("String", "The agents' signing key (Secrets Manager).", secret_arn),
        **_closing_params(agents_table, ws_endpoint),
        "AutomationAssumeRole": _role_param(role_arn),
    }
    step = script_step(
        "EmergencyKeyRotation",
        revoke_tokens,
        "emergency_handler",
        _refs("SecretId", "AgentsTable", "WsEndpoint"),
        {
            "Closed": ("$.Payload.closed", "Integer"),
            "RetiredVersion": ("$.Payload.retiredVersion", "String"),
            "CurrentVersion": ("$.Payload.currentVersion", "String"),
        },
    )
    return _document(
        "# Emergency rotation of the agents' key\nFor a leaked signing key: rotates it now, removes "
        "AWSPREVIOUS from the old version at once (no token it signed connects any more), and closes "
        "every open connection whose token the new key did not sign, again after ws-connect's one-minute "
        "key cache. Every agent must fetch a new token. A normal rotation keeps the previous key for "
        "30 minutes instead.",
        parameters,
        step,
    )


def runbook_document(markdown: str) -> dict[str, Any]:
    """The rendered runbook as an Automation document: the console shows `description` as Markdown.

    It exists so every alarm link has a deployed target; its one step does nothing.
    """
    return {
        "schemaVersion": SCHEMA_VERSION,
        "description": markdown,
        "mainSteps": [{"name": "ReadTheDescription", "action": "aws:sleep", "inputs": {"Duration": "PT1S"}}],
    }
