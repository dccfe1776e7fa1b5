"""A moto server (`moto_server`, from moto[server]) on a free local port, for the AWS adapters'
tests: real HTTP with SigV4-signed requests, never patched clients.

    with MotoServer.started() as aws:
        env = aws.environ()          # AWS_ENDPOINT_URL, region and dummy credentials
        client = boto3.client("sqs", endpoint_url=aws.url, region_name=aws.region)

Each server is a fresh AWS account: tests that share one reset it with `reset()`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import boto3
import httpx

REGION = "us-east-1"
ACCESS_KEY = "testing"
SECRET_KEY = "testing"
REPOSITORY = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _command() -> list[str]:
    beside = Path(sys.executable).with_name("moto_server")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("moto_server")
    if found:
        return [found]
    return [sys.executable, "-m", "moto.server"]


@dataclass
class MotoServer:
    url: str
    process: subprocess.Popen[bytes]
    region: str = REGION

    @classmethod
    @contextlib.contextmanager
    def started(cls, *, module: str | None = None, timeout: float = 30.0) -> Iterator[MotoServer]:
        """moto's own `moto_server`, or `python -m <module> PORT` for one of the variants here
        (tests/support/serial_moto.py, tests/support/clocked_moto.py)."""
        port = _free_port()
        command = (
            [sys.executable, "-m", module, str(port)]
            if module
            else [*_command(), "-H", "127.0.0.1", "-p", str(port)]
        )
        process = subprocess.Popen(
            command, cwd=REPOSITORY, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        server = cls(url=f"http://127.0.0.1:{port}", process=process)
        try:
            server._wait_ready(timeout)
            yield server
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"moto_server exited with {self.process.returncode}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/moto-api/", timeout=1).status_code < 500:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"moto_server did not answer on {self.url} within {timeout} s")

    def reset(self) -> None:
        """Forget every resource: a fresh account for the next test."""
        httpx.post(f"{self.url}/moto-api/reset", timeout=10).raise_for_status()

    def environ(self) -> dict[str, str]:
        """What a process (or boto3 in this one) needs to reach this server and nothing else."""
        return {
            "AWS_ENDPOINT_URL": self.url,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        }


def put_secret(env: Mapping[str, str], secret_id: str, value: str) -> None:
    """Make `value` the secret's current version, as an operator does after `aws bootstrap`
    (`aws secretsmanager put-secret-value`), through the moto server `env` points at."""
    client = boto3.session.Session().client(
        "secretsmanager",
        endpoint_url=env["AWS_ENDPOINT_URL"],
        region_name=env["AWS_REGION"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )
    client.put_secret_value(SecretId=secret_id, SecretString=value)
