"""SSM parameters a manual run could abuse: fixed to the stack's own values, integers bounded."""

import pytest

from automation.scripts import creator_pause, guarded_redrive, redrive_dlq
from tests.automation.test_documents_run import execute
from tests.automation.test_layer_template import _logical_id, documents, synth  # noqa: F401

# Parameters an operator legitimately types; every other String is this stack's own value.
FREE = {"CreatorId", "AgentId", "Reason", "Operator"}


def _role(template, automation):
    return {"Fn::GetAtt": [_logical_id(template, f"Automation{automation}Role"), "Arn"]}


@pytest.mark.parametrize(
    "automation",
    ["RedriveDlq", "GuardedRedrive", "PauseCreator", "ResumeCreator", "RevokeTokens", "EmergencyKeyRotation"],
)
def test_queues_tables_alarm_and_role_allow_only_the_stacks_own_value(synth, automation):  # noqa: F811
    template, *_ = synth
    params = documents(template)[f"BYOIP-test-{automation}"]["Content"]["parameters"]
    fixed = {name: spec for name, spec in params.items() if spec["type"] == "String" and name not in FREE}
    assert fixed, automation
    for name, spec in fixed.items():
        assert spec["allowedValues"] == [spec["default"]], name
    assert params["AutomationAssumeRole"]["allowedValues"] == [_role(template, automation)]


def test_guarded_redrive_fixes_both_queues_and_the_guard_alarm(synth):  # noqa: F811
    template, *_ = synth
    params = documents(template)["BYOIP-test-GuardedRedrive"]["Content"]["parameters"]
    assert {n for n, s in params.items() if "allowedValues" in s} == {
        "DlqUrl",
        "JobsQueueUrl",
        "QuarantineQueueUrl",
        "ErrorsAlarmName",
        "AutomationAssumeRole",
    }
    assert params["ErrorsAlarmName"]["allowedValues"] == ["BYOIP-test-DispatcherErrors"]


@pytest.mark.parametrize(
    ("document", "name", "low", "high"),
    [
        ("BYOIP-test-ResumeCreator", "MaxJobs", creator_pause.MIN_JOBS, creator_pause.MAX_JOBS),
        ("BYOIP-test-RedriveDlq", "MaxPerSecond", redrive_dlq.MIN_RATE, redrive_dlq.MAX_RATE),
        ("BYOIP-test-GuardedRedrive", "MaxMessages", *guarded_redrive.LIMITS["max_messages"]),
        ("BYOIP-test-GuardedRedrive", "MaxWaitSeconds", *guarded_redrive.LIMITS["max_wait_seconds"]),
    ],
)
def test_integer_parameters_say_the_range_their_script_enforces(synth, document, name, low, high):  # noqa: F811
    template, *_ = synth
    spec = documents(template)[document]["Content"]["parameters"][name]
    assert spec["type"] == "Integer"
    assert f"{low}-{high}; the script refuses other values." in spec["description"]
    assert low <= spec["default"] <= high


@pytest.mark.parametrize("max_jobs", [0, 1001, -5, True, "10"])
def test_resume_refuses_max_jobs_outside_1_1000_before_any_write(max_jobs):
    # No client at all: a refusal must happen before the first AWS call.
    with pytest.raises(ValueError, match="max_jobs=.* is outside 1-1000"):
        creator_pause.resume_creator(
            None,
            None,
            limits_table="t",
            jobs_table="j",
            jobs_queue_url="q",
            creator_id="c1",
            max_jobs=max_jobs,
        )


@pytest.mark.parametrize("max_jobs", [1, 1000])
def test_resume_accepts_max_jobs_at_both_ends(tables, sqs, max_jobs):
    from automation import documents as docs

    queue = sqs.create_queue(QueueName="jobs")["QueueUrl"]
    document = docs.resume_creator_document(
        limits_table="byoip-test-creator-limits",
        jobs_table="byoip-test-jobs",
        jobs_queue_url=queue,
        role_arn="arn:aws:iam::123456789012:role/automation",
    )
    assert execute(document, CreatorId="c1", MaxJobs=max_jobs)["released"] == 0


def test_a_manual_run_with_another_queue_is_refused_by_the_parameter_check():
    from automation import documents as docs

    document = docs.guarded_redrive_document(
        dlq_url="https://sqs/dlq",
        jobs_queue_url="https://sqs/jobs",
        quarantine_url="https://sqs/quarantine",
        errors_alarm_name="BYOIP-test-DispatcherErrors",
        role_arn="arn:aws:iam::123456789012:role/guarded",
    )
    with pytest.raises(AssertionError, match="QuarantineQueueUrl"):
        execute(document, QuarantineQueueUrl="https://sqs/attacker")
