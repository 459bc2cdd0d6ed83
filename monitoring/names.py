"""Dashboard names and console URLs, without importing CDK (runbooks and the CLI use them)."""

from __future__ import annotations

from stacks.config import Config


def primary_dashboard_name(config: Config) -> str:
    return f"BYOIP-Ops-{config.stage}"


def deprecated_dashboard_name(config: Config) -> str:
    return f"ByoIpRunner-{config.stage}"


def dashboard_console_url(name: str, region: str) -> str:
    """Console URL of a dashboard in `region` (a token resolves at deploy time)."""
    return (
        f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#dashboards/dashboard/{name}"
    )
