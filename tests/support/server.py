"""Run `incident-response serve` as a real process, the way an operator would."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

SECRET = "e2e-secret-0123456789abcdef"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def executable() -> str:
    candidate = Path(sys.executable).parent / "incident-response"
    return str(candidate) if candidate.exists() else "incident-response"


def clean_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(
            (
                "SLACK_",
                "AWS_",
                "LINEAR_",
                "STATUSPAGE_",
                "WORKOS_",
                "GITHUB_",
                "GRAFANA_",
                "ANTHROPIC_",
                "OPENAI_",
                "BEDROCK_",
            )
        )
        and not k.startswith("INCIDENT_RESPONSE_")
    }
    env.update(
        {"INCIDENT_RESPONSE_DATA_DIR": str(data_dir), "INCIDENT_RESPONSE_WEBHOOK_SECRET": SECRET}
    )
    env.update(extra)
    return env


class ServeProcess:
    def __init__(
        self, data_dir: Path, *, role: str = "all", env: dict[str, str] | None = None
    ) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = env or clean_env(data_dir)
        self.log_path = data_dir / f"serve-{self.port}.log"
        data_dir.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("w")
        self.proc = subprocess.Popen(
            [
                executable(),
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--role",
                role,
            ],
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        try:
            self._wait_healthy()
        except BaseException:
            # no `with` block will stop a server that never became healthy: stop it here, or
            # it outlives the test (and the run), holding its port and the data dir
            self.kill()
            raise

    def _wait_healthy(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"serve exited with {self.proc.returncode}: {self.log()[-2000:]}"
                )
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.base + "/healthz", timeout=1).status_code == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"serve did not become healthy: {self.log()[-2000:]}")

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text()

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.base, headers=headers, timeout=10)

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [executable(), *args], env=self.env, capture_output=True, text=True, timeout=60
        )

    def token(self, email: str) -> str:
        done = self.cli("token", email)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, no flushing: a crashed pod."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self._log.close()

    def stop(self) -> int:
        self.proc.terminate()
        try:
            code = self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait(10)
        self._log.close()
        return code

    def __enter__(self) -> ServeProcess:
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.proc.poll() is None:
            self.stop()
