"""Agent-facing bounds of the sidecar on a real `agentledger up` (docs/operations.md, "Agent connections" and
"What is recorded"): slow big bodies cannot grow memory past the buffer bound, idle connections are closed, and
credentials outside the usual header names never reach the spool or the stored record."""

from __future__ import annotations

import socket
import time
from pathlib import Path

from conftest import start_ledger
from support import Ledger, ManagedProcess, free_port, http_client, ledger_env, new_session_id


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def closed_within(sock: socket.socket, seconds: float) -> bytes | None:
    """What the server sent before closing `sock`, or None if it was still open after `seconds`."""
    sock.settimeout(0.2)
    received = b""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            continue
        except ConnectionResetError:
            return received
        if not chunk:
            return received
        received += chunk
    return None


def test_slow_big_bodies_keep_memory_bounded_and_idle_connections_close(binary, upstream_url, tmp_path):
    process, base = start_ledger(
        binary, upstream_url, tmp_path,
        AGENTLEDGER_MAX_BUFFERED_MB="32", AGENTLEDGER_REQUEST_BODY_TIMEOUT_MS="3000",
        AGENTLEDGER_AGENT_IDLE_TIMEOUT_MS="1500",
    )
    port = int(base.rsplit(":", 1)[1])
    sockets: list[socket.socket] = []
    try:
        before = rss_mib(process.process.pid)
        # Twelve agents each declare a 31 MiB body and send 8 MiB of it: one fits the 32 MiB bound (without it,
        # all twelve were held, 96 MiB and more).
        chunk = b"a" * (1 << 20)
        head = (
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: sidecar\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % (31 << 20)
        )
        for _ in range(12):
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            sock.sendall(head)
            sockets.append(sock)
        for _ in range(8):
            for sock in sockets:
                try:
                    sock.sendall(chunk)
                except OSError:
                    pass
            time.sleep(0.05)
        peak = rss_mib(process.process.pid)
        assert peak - before < 32 + 30, f"RSS grew from {before:.0f} to {peak:.0f} MiB"
        # Every one of them is closed: refused at once, or 408 once its body stalls.
        statuses = []
        for sock in sockets:
            answer = closed_within(sock, 10)
            assert answer is not None, "a stalled upload was still open after 10 s"
            statuses.append(answer.split(b" ", 2)[1] if answer.startswith(b"HTTP/1.1 ") else b"reset")
        assert b"503" in statuses and b"408" in statuses, statuses

        # A connection that sends nothing is closed by the idle timeout.
        idle = socket.create_connection(("127.0.0.1", port), timeout=5)
        sockets.append(idle)
        assert closed_within(idle, 6) == b""

        with http_client() as client:
            metrics = client.get(f"{base}/agentledger/metrics").text
        for name in ("body_buffer_full_total", "request_body_timeouts_total", "agent_idle_closed_total"):
            line = next(l for l in metrics.splitlines() if l.startswith(f"agentledger_sidecar_{name} "))
            assert int(line.split()[1]) >= 1, line
        assert "agentledger_sidecar_buffered_body_bytes 0" in metrics
        assert process.process.poll() is None
    finally:
        for sock in sockets:
            sock.close()
        process.stop()


SECRETS = {
    "x-goog-api-key": "goog-SECRET-1",
    "x-litellm-api-key": "litellm-SECRET-2",
    "x-portkey-api-key": "portkey-SECRET-3",
    "authorization": "Bearer auth-SECRET-4",
    "x-custom-token": "custom-SECRET-5",
}


def test_credentials_reach_neither_the_spool_nor_the_stored_record(binary, upstream_url, tmp_path):
    process, base = start_ledger(binary, upstream_url, tmp_path)
    try:
        ledger = Ledger(base_url=base, upstream_url=upstream_url)
        session = new_session_id("secrets")
        body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello"}]}
        with http_client() as client:
            response = client.post(
                f"{base}/v1/chat/completions?key=query-SECRET-6&api-key=query-SECRET-7&alt=json",
                json=body, headers={**SECRETS, "x-agentledger-session-id": session},
            )
        assert response.status_code == 200, response.text
        # The upstream got everything as sent.
        upstream = ledger.last_upstream_request()
        assert "query-SECRET-6" in upstream["path"]
        assert any(value == "goog-SECRET-1" for _, value in upstream["headers"])
        records = ledger.session_records(session, 1)
        text = ledger.session_text(session)
        stored = (tmp_path / "ledger.db").read_bytes() + b"".join(
            p.read_bytes() for p in tmp_path.glob("ledger.db-*") if p.is_file()
        )
        assert b"gpt-4o-mini" in stored, "the check must look where the record is"
        for secret in [*SECRETS.values(), "query-SECRET-6", "query-SECRET-7"]:
            assert secret not in text, secret
            assert secret.encode() not in stored, f"{secret} in the store"
        assert records[0]["tokens_in"] > 0
    finally:
        process.stop()


def test_credentials_never_reach_the_spool(binary, upstream_url, tmp_path):
    """A sidecar whose collector is away keeps the record in its spool: the spool is searched for each secret."""
    port, closed = free_port(), free_port()
    sidecar = ManagedProcess(
        name="agentledger sidecar", args=[str(binary), "sidecar"],
        env=ledger_env(port, closed, upstream_url, tmp_path), cwd=tmp_path, log_path=tmp_path / "sidecar.log",
    )
    sidecar.start()
    try:
        base = f"http://127.0.0.1:{port}"
        sidecar.wait_until_healthy(f"{base}/agentledger/metrics")
        body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello"}]}
        with http_client() as client:
            response = client.post(
                f"{base}/v1/chat/completions?key=query-SECRET-6&api-key=query-SECRET-7", json=body, headers=SECRETS
            )
        assert response.status_code == 200, response.text
        spooled = b""
        for _ in range(50):
            spooled = b"".join(p.read_bytes() for p in (tmp_path / "spool").rglob("*") if p.is_file())
            if b"gpt-4o-mini" in spooled:
                break
            time.sleep(0.1)
        assert b"gpt-4o-mini" in spooled, "the record never reached the spool"
        assert b"key=REDACTED" in spooled
        for secret in [*SECRETS.values(), "query-SECRET-6", "query-SECRET-7"]:
            assert secret.encode() not in spooled, f"{secret} in the spool"
    finally:
        sidecar.stop()
