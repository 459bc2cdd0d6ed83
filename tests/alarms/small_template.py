"""A small hand-written template shaped like CDK output, for the evaluator's own tests."""

from __future__ import annotations

import copy
from typing import Any

TOPIC = {"Ref": "OpsAlerts"}
QUEUE_NAME = {"Fn::GetAtt": ["Dlq", "QueueName"]}


def _alarm(name: str, **props: Any) -> dict[str, Any]:
    base = {
        "AlarmName": {"Fn::Join": ["", ["T-", {"Ref": "AWS::Region"}, f"-{name}"]]},
        "ComparisonOperator": "GreaterThanThreshold",
        "EvaluationPeriods": 1,
        "Threshold": 0,
        "AlarmActions": [TOPIC],
    }
    base.update(props)
    return {"Type": "AWS::CloudWatch::Alarm", "Properties": base}


BASE: dict[str, Any] = {
    "Resources": {
        "OpsAlerts": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "t-ops-alerts"}},
        "Dlq": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "t-jobs-dlq"}},
        "DlqAlarm": _alarm(
            "DLQ",
            Namespace="AWS/SQS",
            MetricName="ApproximateNumberOfMessagesVisible",
            Dimensions=[{"Name": "QueueName", "Value": QUEUE_NAME}],
            Statistic="Maximum",
            Period=60,
            TreatMissingData="notBreaching",
            OKActions=[TOPIC],
        ),
        "Errors": _alarm(
            "Errors",
            Namespace="AWS/Lambda",
            MetricName="Errors",
            Dimensions=[{"Name": "FunctionName", "Value": "t-dispatcher"}],
            Statistic="Sum",
            Period=60,
            Threshold=3,
            EvaluationPeriods=3,
            DatapointsToAlarm=2,
            ComparisonOperator="GreaterThanOrEqualToThreshold",
        ),
        "Pct": _alarm(
            "Pct",
            Threshold=10,
            EvaluationPeriods=3,
            DatapointsToAlarm=2,
            Metrics=[
                {
                    "Id": "f",
                    "ReturnData": False,
                    "MetricStat": {
                        "Metric": {"Namespace": "D", "MetricName": "BatchItemFailures"},
                        "Period": 300,
                        "Stat": "Sum",
                    },
                },
                {
                    "Id": "i",
                    "ReturnData": False,
                    "MetricStat": {
                        "Metric": {"Namespace": "D", "MetricName": "BatchItems"},
                        "Period": 300,
                        "Stat": "Sum",
                    },
                },
                {"Id": "pct", "Expression": "100 * FILL(f, 0) / MAX([FILL(i, 0), TIME_SERIES(1)])"},
            ],
        ),
        "Incident": {
            "Type": "AWS::CloudWatch::CompositeAlarm",
            "Properties": {
                "AlarmName": "T-Incident",
                "AlarmRule": {
                    "Fn::Join": [
                        "",
                        [
                            'ALARM("',
                            {"Fn::GetAtt": ["DlqAlarm", "Arn"]},
                            '") OR (ALARM("',
                            {"Fn::GetAtt": ["Errors", "Arn"]},
                            '") AND ALARM(T-us-east-1-Pct))',
                        ],
                    ]
                },
                "AlarmActions": [TOPIC],
            },
        },
        "RedriveRule": {
            "Type": "AWS::Events::Rule",
            "Properties": {
                "Name": "t-redrive-on-dlq",
                "EventPattern": {
                    "source": ["aws.cloudwatch"],
                    "detail-type": ["CloudWatch Alarm State Change"],
                    "detail": {"alarmName": [{"Ref": "DlqAlarm"}], "state": {"value": ["ALARM"]}},
                },
                "Targets": [
                    {
                        "Arn": "arn:aws:ssm:us-east-1:123456789012:automation-definition/T-Redrive:$DEFAULT",
                        "Id": "t",
                    }
                ],
            },
        },
    }
}


def template(**changes: Any) -> dict[str, Any]:
    """A deep copy of BASE with top-level resource properties changed: template(Errors={"Threshold": 5})."""
    out = copy.deepcopy(BASE)
    for logical_id, props in changes.items():
        out["Resources"][logical_id]["Properties"].update(props)
    return out
