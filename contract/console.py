"""AWS console deep links. `region`/`account` may be CDK tokens: they are never encoded."""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import quote

_UNRESERVED = re.compile(r"[A-Za-z0-9_.-]")


def _console(region: str, service_path: str) -> str:
    return f"https://{region}.console.aws.amazon.com/{service_path}"


def dashboard(region: str, name: str) -> str:
    """CloudWatch dashboard page."""
    return _console(region, f"cloudwatch/home?region={region}#dashboards/dashboard/{quote(name)}")


def alarm(region: str, name: str) -> str:
    """CloudWatch alarm detail page."""
    return _console(region, f"cloudwatch/home?region={region}#alarmsV2:alarm/{quote(name)}")


def queue(region: str, account: str, name: str) -> str:
    """SQS console page of one queue (the console keys queues by their URL, encoded)."""
    encoded_url = f"https%3A%2F%2Fsqs.{region}.amazonaws.com%2F{account}%2F{quote(name, safe='')}"
    return _console(region, f"sqs/v3/home?region={region}#/queues/{encoded_url}")


def _console_escape(text: str) -> str:
    """The CloudWatch console's fragment encoding: every other byte as `*xx` (lowercase hex)."""
    return "".join(ch if _UNRESERVED.match(ch) else "".join(f"*{b:02x}" for b in ch.encode()) for ch in text)


def log_group(region: str, name: str) -> str:
    """CloudWatch Logs page of one log group."""
    encoded = quote(name, safe="").replace("%", "$25")
    return _console(region, f"cloudwatch/home?region={region}#logsV2:log-groups/log-group/{encoded}")


def logs_insights(
    region: str, log_group_name: str | Sequence[str], query: str, *, last_seconds: int = 3600
) -> str:
    """Logs Insights with the query typed in and the log group(s) selected, over the last hour."""
    groups = [log_group_name] if isinstance(log_group_name, str) else list(log_group_name)
    source = "".join(f"~'{_console_escape(group)}" for group in groups)
    detail = (
        f"~(end~0~start~-{last_seconds}~timeType~'RELATIVE~unit~'seconds"
        f"~editorString~'{_console_escape(query)}~source~({source}))"
    )
    return _console(region, f"cloudwatch/home?region={region}#logsV2:logs-insights$3FqueryDetail$3D{detail}")


def contributor_insights(region: str) -> str:
    """CloudWatch Contributor Insights: the rules, each opening its graph of top contributors."""
    return _console(region, f"cloudwatch/home?region={region}#contributorinsights:rules")


def ssm_document(region: str, name: str) -> str:
    """SSM document page (its description tab renders the Markdown)."""
    return _console(region, f"systems-manager/documents/{quote(name)}/description?region={region}")


def ssm_execute(region: str, name: str) -> str:
    """SSM 'Execute automation' form for one document."""
    return _console(region, f"systems-manager/automation/execute/{quote(name)}?region={region}")


def lambda_function(region: str, name: str) -> str:
    """Lambda function page."""
    return _console(region, f"lambda/home?region={region}#/functions/{quote(name)}")
