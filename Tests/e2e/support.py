"""Helpers shared by the end-to-end tests: processes, ports, polling and SSE parsing."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import anthropic
import httpx
import openai
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
API_KEY_OPENAI = "sk-e2e-openai-secret-0123456789"
API_KEY_ANTHROPIC = "sk-ant-e2e-anthropic-secret-0123456789"


def agentledger_binary() -> Path:
    """The binary under test: $AGENTLEDGER_BIN, else the debug build."""
    configured = os.environ.get("AGENTLEDGER_BIN")
    path = Path(configured) if configured else REPO_ROOT / ".build" / "debug" / "agentledger"
    if not path.is_file():
        raise RuntimeError(f"agentledger binary not found at {path}: run `swift build` or set AGENTLEDGER_BIN")
    return path


def free_port() -> int:
    """A loopback port that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def new_session_id(label: str) -> str:
    """A readable, non-UUID session id (the contract says those work everywhere)."""
    return f"e2e-{label}-{uuid.uuid4().hex[:12]}"


def http_client(timeout: float = 30.0) -> httpx.Client:
    return httpx.Client(timeout=timeout, trust_env=False)


@dataclass
class ManagedProcess:
    """A child process with its output in a log file, stopped with SIGTERM and then SIGKILL."""

    name: str
    args: list[str]
    env: dict[str, str]
    cwd: Path
    log_path: Path
    process: subprocess.Popen | None = None
    _log_file: object = field(default=None, repr=False)

    def start(self) -> None:
        self._log_file = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            self.args,
            env=self.env,
            cwd=self.cwd,
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
        )

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def wait_until_healthy(self, url: str, timeout: float = 30.0) -> None:
        """Poll `url` until it answers 200; bounded by `timeout` seconds and 600 attempts."""
        deadline = time.monotonic() + timeout
        last_error = "no attempt"
        with http_client(timeout=2.0) as client:
            for _ in range(600):
                if self.process is not None and self.process.poll() is not None:
                    raise RuntimeError(
                        f"{self.name} exited with code {self.process.returncode} before becoming healthy:\n{self.log_tail()}"
                    )
                try:
                    response = client.get(url)
                    if response.status_code == 200:
                        return
                    last_error = f"status {response.status_code}"
                except httpx.HTTPError as error:
                    last_error = repr(error)
                if time.monotonic() > deadline:
                    break
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.name} not healthy at {url} within {timeout} s ({last_error}):\n{self.log_tail()}")

    def stop(self, grace: float = 10.0) -> int | None:
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=grace)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        return self.process.returncode


def ledger_env(proxy_port: int, ingest_port: int, upstream_url: str, workdir: Path, **extra: str) -> dict[str, str]:
    """Environment of an `agentledger up` under test: loopback only, files in `workdir`."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AGENTLEDGER_", "AGENTICLEDGER_"))}
    env.update(
        AGENTLEDGER_HOST="127.0.0.1",
        AGENTLEDGER_PORT=str(proxy_port),
        AGENTLEDGER_INGEST_HOST="127.0.0.1",
        AGENTLEDGER_INGEST_PORT=str(ingest_port),
        AGENTLEDGER_COLLECTOR=f"127.0.0.1:{ingest_port}",
        AGENTLEDGER_UPSTREAM_URL=upstream_url,
        AGENTLEDGER_DSN=f"sqlite:///{workdir / 'ledger.db'}",
        AGENTLEDGER_SPOOL_DIR=str(workdir / "spool"),
    )
    env.update(extra)
    return env


@dataclass
class Ledger:
    """A running `agentledger up` and the mock upstream behind it."""

    base_url: str
    upstream_url: str

    def session_records(self, session_id: str, expected: int, timeout: float = 10.0) -> list[dict]:
        """The session's records once at least `expected` have arrived (records ship asynchronously)."""
        deadline = time.monotonic() + timeout
        last = "no attempt"
        with http_client() as client:
            for _ in range(200):
                response = client.get(f"{self.base_url}/session/{session_id}")
                if response.status_code == 200:
                    records = response.json()
                    if len(records) >= expected:
                        return records
                    last = f"{len(records)} records"
                else:
                    last = f"status {response.status_code}: {response.text[:200]}"
                if time.monotonic() > deadline:
                    break
                time.sleep(0.1)
        raise AssertionError(f"session {session_id}: wanted {expected} records within {timeout} s, last saw {last}")

    def session_text(self, session_id: str) -> str:
        with http_client() as client:
            return client.get(f"{self.base_url}/session/{session_id}").text

    def last_upstream_request(self) -> dict:
        with http_client() as client:
            response = client.get(f"{self.upstream_url}/debug/last-request")
            response.raise_for_status()
            return response.json()


def sse_events(raw: bytes) -> list[bytes]:
    """The events of an SSE byte stream, without their blank-line terminators."""
    return [event for event in raw.split(b"\n\n") if event.strip()]


def sse_data(raw: bytes) -> list[str]:
    """The `data:` payloads of an SSE byte stream, in order."""
    payloads = []
    for event in sse_events(raw):
        for line in event.split(b"\n"):
            if line.startswith(b"data:"):
                payloads.append(line[5:].strip().decode())
    return payloads


def sse_json(raw: bytes) -> list[dict]:
    return [json.loads(payload) for payload in sse_data(raw) if payload != "[DONE]"]


def stream_raw(url: str, body: dict | bytes, headers: dict[str, str]) -> bytes:
    """POST and collect the whole streamed answer, byte for byte."""
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    with http_client() as client:
        with client.stream("POST", url, content=content, headers={"content-type": "application/json", **headers}) as response:
            assert response.status_code == 200, response.read()
            return b"".join(response.iter_raw())


def openai_client(base: str, headers: dict[str, str] | None = None) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=f"{base}/v1", api_key=API_KEY_OPENAI, max_retries=0, timeout=30.0, default_headers=headers or {}
    )


def anthropic_client(base: str, headers: dict[str, str] | None = None) -> anthropic.Anthropic:
    return anthropic.Anthropic(
        base_url=base, api_key=API_KEY_ANTHROPIC, max_retries=0, timeout=30.0, default_headers=headers or {}
    )


def fresh_postgres_database(prefix: str = "e2e") -> str:
    """A new, empty database on the throwaway cluster of scripts/test (skips without one); its DSN."""
    cluster = os.environ.get("AGENTLEDGER_TEST_POSTGRES_DSN")
    if not cluster:
        pytest.skip("AGENTLEDGER_TEST_POSTGRES_DSN is not set (scripts/test starts a throwaway Postgres and sets it)")
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    created = subprocess.run(["psql", cluster, "-v", "ON_ERROR_STOP=1", "-c", f"CREATE DATABASE {name}"],
                             capture_output=True, timeout=30)
    assert created.returncode == 0, created.stderr.decode(errors="replace")
    return cluster.rsplit("/", 1)[0] + "/" + name
