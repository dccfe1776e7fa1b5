"""Personal tokens across processes: the CLI rotates and revokes, a running `serve` on the same
data dir obeys on the next request, without a restart."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import roster_emails
from tests.support.server import ServeProcess

pytestmark = pytest.mark.slow


def status(server: ServeProcess, token: str) -> tuple[int, str]:
    with server.client(token) as api:
        response = api.get("/api/incidents")
    return response.status_code, response.json().get("error", "") if response.is_error else ""


def test_the_cli_rotates_and_revokes_tokens_for_a_running_serve(tmp_path: Path) -> None:
    with ServeProcess(tmp_path) as server:
        email = roster_emails(tmp_path)[0]
        first = server.token(email)
        assert status(server, first) == (200, "")

        rotated = server.cli("token", email, "--rotate", "--ttl", "12h")
        assert rotated.returncode == 0, rotated.stderr
        second = rotated.stdout.strip()
        assert status(server, first) == (
            401,
            "token revoked: run `incident-response token EMAIL` for a new one",
        )
        assert status(server, second) == (200, "")

        revoked = server.cli("token", "revoke", email)
        assert revoked.returncode == 0, revoked.stderr
        assert revoked.stdout == ""
        assert f"revoked every token and console session of {email}" in revoked.stderr
        assert status(server, second)[0] == 401
        assert status(server, server.token(email)) == (200, "")
