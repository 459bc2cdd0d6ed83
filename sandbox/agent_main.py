"""`python -m sandbox.agent URL --token JWT [--upload-log FILE] [--patch-public-key PEM]`: one agent."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

from sandbox.agent import Agent, AgentBehaviour, AgentRejected
from sandbox.patch_client import PatchChecker, PublicKeyInvalid, load_public_key


def _print(message: str) -> None:
    print(time.strftime("%H:%M:%S"), message, flush=True)


def main(argv: list[str] | None = None) -> int:
    """Run one agent against a WebSocket URL until Ctrl-C; 1 when the token is rejected."""
    import argparse

    parser = argparse.ArgumentParser(description="BYO-IP reference agent")
    parser.add_argument("url", help="the stack's WebSocketUrl, e.g. wss://…/prod")
    parser.add_argument("--token", required=True, help="an agent JWT (byoip token …)")
    parser.add_argument("--agent-id", default="", help="label for logs (default: the token's agentId)")
    parser.add_argument(
        "--upload-log", metavar="FILE", help="upload this log file once connected (logs.upload)"
    )
    parser.add_argument("--patch-public-key", help="PEM public key of the stage's patch-signing KMS key")
    parser.add_argument(
        "--reconnect-window",
        type=float,
        default=30.0,
        help="seconds of jitter before the first reconnect after a drop, 0-900 (default 30: a fleet "
        "of 1,000 comes back at ~33/s, under the stage's $connect throttle of 50/s)",
    )
    args = parser.parse_args(argv)
    if not 0 <= args.reconnect_window <= 900:
        print(f"error: --reconnect-window {args.reconnect_window:g}: allowed 0-900 seconds", file=sys.stderr)
        return 2
    patches = None
    if args.patch_public_key:
        try:
            patches = PatchChecker(load_public_key(Path(args.patch_public_key).read_bytes()), _print)
        except (OSError, PublicKeyInvalid) as err:
            print(f"error: --patch-public-key {args.patch_public_key}: {err}", file=sys.stderr)
            return 2
    log_data = None
    if args.upload_log is not None:
        try:
            log_data = Path(args.upload_log).read_bytes()
        except OSError as err:
            print(f"error: --upload-log {args.upload_log}: {err.strerror or err}", file=sys.stderr)
            return 2
    agent_id = args.agent_id or _token_agent_id(args.token)
    behaviour = AgentBehaviour(heartbeat_seconds=60)
    agent = Agent(
        args.url,
        agent_id,
        lambda: args.token,
        behaviour,
        log=_print,
        stop_on_401=True,
        patches=patches,
        reconnect_window=args.reconnect_window,
    )
    _print(f"connecting to {args.url}")
    try:
        asyncio.run(_run(agent, log_data))
    except AgentRejected as exc:
        _print(str(exc))
        return 1
    except KeyboardInterrupt:
        _print("stopped")
    return 0


async def _run(agent: Agent, log_data: bytes | None) -> None:
    """Run the agent; with log data, upload it once the first connection is up."""
    if log_data is None:
        await agent.run()
        return
    runner = asyncio.create_task(agent.run())
    await agent.online.wait()
    await agent.upload_log(log_data)
    await runner


def _token_agent_id(token: str) -> str:
    """The agentId claim, read without verifying (only the gateway can verify it)."""
    import jwt

    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return "agent"
    agent_id = claims.get("agentId")
    return agent_id if isinstance(agent_id, str) else "agent"
