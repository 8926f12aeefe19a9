"""Start-up with a listener that cannot be had (issue 14 item 13), the banner's open-listener warnings (item 14)
and `/agentledger/metrics` behind the API key in `up` (item 12), on real processes, loopback only."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path
from typing import Iterator

import pytest

from conftest import start_ledger
from support import free_port, http_client, ledger_env


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A loopback port another process listens on, as `AGENTLEDGER_PORT` would find it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def run(binary: Path, command: str, tmp_path: Path, **extra: str) -> tuple[int, list[str], float]:
    env = ledger_env(free_port(), free_port(), "http://127.0.0.1:9", tmp_path, **extra)
    started = time.monotonic()
    result = subprocess.run(
        [str(binary), command], env=env, cwd=tmp_path, stdin=subprocess.DEVNULL, capture_output=True, timeout=30
    )
    output = (result.stdout + result.stderr).decode(errors="replace")
    return result.returncode, [line for line in output.splitlines() if line.strip()], time.monotonic() - started


@pytest.mark.parametrize(
    "command,variable",
    [("up", "AGENTLEDGER_PORT"), ("up", "AGENTLEDGER_INGEST_PORT"), ("collector", "AGENTLEDGER_HTTP_PORT"),
     ("collector", "AGENTLEDGER_INGEST_PORT"), ("sidecar", "AGENTLEDGER_PORT")],
)
def test_a_taken_port_is_one_line_and_exit_2(binary: Path, tmp_path: Path, taken_port: int, command: str, variable: str):
    extra = {variable: str(taken_port), "AGENTLEDGER_HTTP_HOST": "127.0.0.1", "AGENTLEDGER_HTTP_PORT": str(free_port())}
    if variable == "AGENTLEDGER_HTTP_PORT":
        extra["AGENTLEDGER_HTTP_PORT"] = str(taken_port)
    for attempt in range(5 if command == "up" else 2):
        workdir = tmp_path / f"{command}-{attempt}"
        workdir.mkdir()
        code, lines, took = run(binary, command, workdir, **extra)
        assert code == 2, lines
        assert lines == [f"agentledger: {variable}: 127.0.0.1:{taken_port} is already in use"], lines
        assert took < 10
        assert not (workdir / "ledger.db").exists()


@pytest.mark.parametrize("command,variable", [("up", "AGENTLEDGER_HOST"), ("sidecar", "AGENTLEDGER_HOST"),
                                              ("collector", "AGENTLEDGER_HTTP_HOST")])
def test_an_address_not_of_this_host_is_one_line_and_exit_2(binary: Path, tmp_path: Path, command: str, variable: str):
    # 192.0.2.1 (TEST-NET-1): binding there fails with EADDRNOTAVAIL and sends nothing.
    for attempt in range(5 if command == "up" else 2):
        workdir = tmp_path / f"{attempt}"
        workdir.mkdir()
        code, lines, took = run(binary, command, workdir, **{variable: "192.0.2.1"})
        assert code == 2, lines
        assert len(lines) == 1 and lines[0].startswith(f"agentledger: {variable}: cannot listen on 192.0.2.1:"), lines
        assert "is not an address of this host" in lines[0]
        assert took < 10


def test_open_listeners_are_warned_about_and_metrics_need_the_key(binary: Path, upstream_url: str, tmp_path: Path):
    open_dir, locked_dir = tmp_path / "open", tmp_path / "locked"
    open_dir.mkdir()
    locked_dir.mkdir()
    process, _ = start_ledger(binary, upstream_url, open_dir, AGENTLEDGER_INGEST_HOST="0.0.0.0")
    try:
        time.sleep(0.5)
        log = process.log_tail(200)
    finally:
        assert process.stop() == 0
    assert "warning" in log and "AGENTLEDGER_INGEST_TOKEN is not set" in log, log
    assert "AGENTLEDGER_API_KEY is not set" not in log, log  # the HTTP listener is on 127.0.0.1
    process, base_url = start_ledger(
        binary, upstream_url, locked_dir, AGENTLEDGER_API_KEY="k-123", AGENTLEDGER_INGEST_TOKEN="t-123"
    )
    try:
        with http_client() as http:
            assert http.get(f"{base_url}/agentledger/metrics").status_code == 401
            allowed = http.get(f"{base_url}/agentledger/metrics", headers={"x-agentledger-api-key": "k-123"})
            assert allowed.status_code == 200 and "agentledger_sidecar_calls_captured_total" in allowed.text
        log = process.log_tail(200)
    finally:
        assert process.stop() == 0
    assert "is not set" not in log, log
