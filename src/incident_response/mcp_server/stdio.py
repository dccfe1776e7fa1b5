"""`incident-response mcp --target URL`: the MCP tools on stdio, against a running service's API.

An agent's MCP client (Claude Desktop, an IDE) starts this command and speaks MCP on its stdin
and stdout; every tool call becomes a REST call to the service with the personal token, so the
agent sees and may do exactly what the token's owner may through the API. Nothing but MCP is
written to stdout; logs go to stderr.
"""

from __future__ import annotations

import sys
from urllib.parse import urlsplit

from incident_response.http import OutboundHttp
from incident_response.mcp_server.backend import ToolRefused
from incident_response.mcp_server.remote import POLICY, ApiBackend, TokenNotAccepted, api_client
from incident_response.mcp_server.tools import build_server


class TargetError(ValueError):
    """A --target that cannot be the service's URL."""


def checked_target(target: str) -> str:
    parts = urlsplit(target.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise TargetError(
            f"--target must be the service's http(s) URL, such as https://incidents.example.com, "
            f"not {target!r}"
        )
    return target.strip().rstrip("/")


async def serve_stdio(*, target: str, token: str) -> None:
    """Serve MCP on stdin/stdout until the client closes it. A token the service refuses stops
    here with that reason (TokenNotAccepted); an unreachable service is only reported, so the
    tools can answer once it is back."""
    http = OutboundHttp(default_timeout=POLICY.timeout)
    try:
        backend = ApiBackend(api_client(http, target=target, token=token), target=target)
        try:
            await backend.open_incidents(limit=1)
        except TokenNotAccepted:
            raise
        except ToolRefused as refused:
            print(f"warning: {refused}", file=sys.stderr, flush=True)
        await build_server(lambda _ctx: backend).run_stdio_async()
    finally:
        await http.aclose()
