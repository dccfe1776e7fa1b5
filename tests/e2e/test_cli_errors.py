"""The command's errors as an operator sees them in a terminal: one clear line on stderr, a
non-zero exit, never a traceback, never wrapped in the middle of a phrase, whatever the paths."""

from __future__ import annotations

import socket
import stat
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.support.server import ServeProcess, clean_env, executable

pytestmark = pytest.mark.slow

BROKEN_ROSTER = "people: [ {name: x\n"


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [executable(), *args],
        env={**env, "COLUMNS": "80"},
        capture_output=True,
        text=True,
        timeout=60,
    )


def one_clear_line(done: subprocess.CompletedProcess[str], *phrases: str) -> str:
    assert done.returncode != 0
    assert "Traceback" not in done.stdout + done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1, done.stderr
    for phrase in phrases:
        assert phrase in errors[0], errors[0]
    return errors[0]


@pytest.fixture
def deep(tmp_path: Path) -> Path:
    """A data dir under a path far longer than a terminal is wide."""
    path = tmp_path.joinpath(*(["a-rather-long-folder-name"] * 6), "data")
    path.mkdir(parents=True)
    return path


@pytest.mark.parametrize(
    "command", [["token", "alice@example.com"], ["serve", "--port", "0"], ["config", "check"]]
)
def test_a_broken_roster_is_one_line_naming_the_file(deep: Path, command: list[str]) -> None:
    (deep / "roster.yaml").write_text(BROKEN_ROSTER)

    line = one_clear_line(
        run(clean_env(deep), *command), str(deep / "roster.yaml"), "not valid YAML"
    )

    assert len(line) > 80  # long, and still on one line


@pytest.mark.parametrize("command", [["token", "alice@example.com"], ["serve", "--port", "0"]])
def test_a_data_dir_that_is_a_file_is_one_line(tmp_path: Path, command: list[str]) -> None:
    data = tmp_path / "data"
    data.write_text("not a directory")

    one_clear_line(run(clean_env(data), *command), f"data dir {data} is a file")


def test_a_data_dir_that_cannot_be_created_is_one_line(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("x")

    one_clear_line(
        run(clean_env(blocked / "data"), "token", "alice@example.com"), "cannot be created"
    )


def test_a_port_in_use_is_one_line_and_nothing_starts(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        done = run(clean_env(tmp_path), "serve", "--host", "127.0.0.1", "--port", str(port))

    one_clear_line(done, f"cannot listen on 127.0.0.1:{port}", "address already in use")
    assert "serving on" not in done.stdout + done.stderr


def test_the_data_dir_and_database_files_are_private(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    with ServeProcess(data) as server:
        assert httpx.get(server.base + "/readyz").status_code == 200
        files = ["incident-response.sqlite3", "incident-response.sqlite3-wal"]
        modes = {name: stat.S_IMODE((data / name).stat().st_mode) for name in files}

    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert modes == dict.fromkeys(files, 0o600)


def test_readiness_fails_when_the_data_dir_cannot_be_written(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with ServeProcess(data) as server:
        for path in data.iterdir():  # the volume goes away under the running process
            path.unlink()
        data.rmdir()
        ready = httpx.get(server.base + "/readyz")

    assert ready.status_code == 503
    assert "not writable" in ready.json()["checks"]["data_dir"]


def test_an_existing_lax_data_dir_is_tightened(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)

    assert run(clean_env(data), "token", "alice@example.com").returncode == 0

    assert stat.S_IMODE(data.stat().st_mode) == 0o700


def test_config_check_refuses_what_serve_refuses(tmp_path: Path) -> None:
    env = clean_env(
        tmp_path,
        INCIDENT_EVENTS_QUEUE_URL="https://sqs.eu-west-1.amazonaws.com/1/e.fifo",
        SCHEDULER_ROLE_ARN="arn:aws:iam::1:role/s",
        AWS_REGION="eu-west-1",
        INCIDENT_RESPONSE_NUDGE_INTERVAL_SECONDS="90",
    )

    done = run(env, "config", "check")

    assert done.returncode == 2
    assert "multiple of 60" in done.stderr


def test_config_check_points_out_a_misspelt_variable(tmp_path: Path) -> None:
    env = clean_env(tmp_path, INCIDENT_RESPONSE_NUDGE_INTERVAL_SECOND="60")

    done = run(env, "config", "check")

    assert done.returncode == 0, done.stderr
    assert (
        "warning: INCIDENT_RESPONSE_NUDGE_INTERVAL_SECOND is not a setting of incident-response "
        "and is ignored; did you mean INCIDENT_RESPONSE_NUDGE_INTERVAL_SECONDS?"
    ) in done.stderr


def test_a_bad_setting_is_one_line_naming_the_variable(tmp_path: Path) -> None:
    env = clean_env(tmp_path, INCIDENT_RESPONSE_BASE_URL="incidents.example.com")

    for command in (["config", "check"], ["serve", "--port", "0"]):
        one_clear_line(run(env, *command), "INCIDENT_RESPONSE_BASE_URL", "not an http")
