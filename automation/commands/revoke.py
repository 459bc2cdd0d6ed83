"""`byoip revoke`: revoke one agent's or one creator's tokens and close their connections now."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from automation import clients
from automation.output import REFUSED, console, fail
from automation.scripts.revoke_tokens import revoke_tokens
from automation.stage import stage_config
from contract.names import Names
from lambdas.common.protocol import ID_RULE, is_id
from lambdas.common.tables import AGENTS, CREATOR_LIMITS


def management_endpoint(apigw: Any, names: Names, region: str) -> str:
    """The stage's WebSocket management endpoint (`https://<api>.execute-api.<region>.amazonaws.com/prod`)."""
    for page in _pages(apigw):
        for api in page.get("Items", []):
            if api.get("Name") == names.ws_api and api.get("ProtocolType") == "WEBSOCKET":
                return f"https://{api['ApiId']}.execute-api.{region}.amazonaws.com/prod"
    fail(
        f"no WebSocket API named {names.ws_api} in {region}: is stage {names.stage} deployed there?", REFUSED
    )


def _pages(apigw: Any) -> Any:
    token = None
    while True:
        page = apigw.get_apis(**({"NextToken": token} if token else {}))
        yield page
        token = page.get("NextToken")
        if not token:
            return


def revoke(
    stage: Annotated[str, typer.Option("--stage", help="Stage (prod, staging, ...).")],
    creator_id: Annotated[str, typer.Option("--creator-id", help="Creator whose tokens are revoked.")],
    agent_id: Annotated[
        str | None, typer.Option("--agent-id", help="Only this agent of the creator (default: all of them).")
    ] = None,
    region: Annotated[str | None, typer.Option("--region", help="AWS region (default: AWS_REGION).")] = None,
) -> None:
    """Refuse every token issued until now (one agent, or all of a creator's) and close their connections."""
    for flag, value in (("--creator-id", creator_id), ("--agent-id", agent_id)):
        if value is not None and not is_id(value):
            fail(f"{flag} {value!r} is not an id ({ID_RULE})")
    names = stage_config(stage).names
    chosen = clients.region_or_fail(region)
    endpoint = management_endpoint(clients.client("apigatewayv2", chosen), names, chosen)
    summary = revoke_tokens(
        clients.client("dynamodb", chosen),
        clients.client("apigatewaymanagementapi", chosen, endpoint),
        agents_table=names.table(AGENTS.short),
        limits_table=names.table(CREATOR_LIMITS.short),
        creator_id=creator_id,
        agent_id=agent_id,
    )
    who = f"agent {agent_id} of creator {creator_id}" if agent_id else f"every agent of creator {creator_id}"
    console.print(
        f"revoked tokens of {who} issued at or before {summary['tokensValidAfter']}; "
        f"closed {summary['closed']} open connection(s)"
        + (
            f"; {summary['unreachable']} refused DeleteConnection (closed at their next frame)"
            if summary["unreachable"]
            else ""
        ),
        markup=False,
    )
