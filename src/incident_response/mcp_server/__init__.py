"""The MCP server: incidents read, and status updates and postmortems drafted, by AI agents.

The tools (`tools.py`) are written once over `IncidentBackend`, which has two implementations:
the `serve` process's own services behind the streamable HTTP endpoint at `/mcp`
(`in_process.py`, `http_endpoint.py`), and the REST API of a running service behind
`incident-response mcp --target URL` on stdio (`remote.py`, `stdio.py`). Either way the agent
acts as the owner of a personal API token, and there is no tool that approves or publishes: a
draft an agent makes waits for the IC's approval like any other.
"""
