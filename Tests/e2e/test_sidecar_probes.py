"""The sidecar's probes on the real binary (docs/reference.md, "Sidecar probes"): /agentledger/healthz answers while
the proxy listens, /agentledger/readyz follows the collector link in closed mode, as a kubelet would see them."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from support import ManagedProcess, free_port, http_client, ledger_env

pytestmark = pytest.mark.timeout(120)


def collector_process(binary: Path, workdir: Path, http_port: int, ingest_port: int) -> ManagedProcess:
    env = ledger_env(0, ingest_port, "", workdir, AGENTLEDGER_HTTP_HOST="127.0.0.1", AGENTLEDGER_HTTP_PORT=str(http_port))
    return ManagedProcess("collector", [str(binary), "collector"], env, workdir, workdir / f"collector-{time.monotonic_ns()}.log")


def sidecar_process(binary: Path, workdir: Path, port: int, ingest_port: int, upstream: str, mode: str) -> ManagedProcess:
    env = ledger_env(port, ingest_port, upstream, workdir, AGENTLEDGER_ON_COLLECTOR_DOWN=mode)
    return ManagedProcess("sidecar", [str(binary), "sidecar"], env, workdir, workdir / "sidecar.log")


def wait_for_status(url: str, status: int, timeout: float = 20.0) -> dict:
    """Polls `url` until it answers `status` (bounded: `timeout` seconds, 400 attempts); returns its JSON."""
    deadline = time.monotonic() + timeout
    seen = None
    with http_client(timeout=2.0) as client:
        for _ in range(400):
            response = client.get(url)
            seen = response.status_code
            if seen == status:
                return response.json()
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)
    raise AssertionError(f"{url} answered {seen}, not {status}, within {timeout} s")


def test_closed_mode_is_ready_only_while_linked(binary: Path, upstream_url: str, tmp_path: Path) -> None:
    http_port, ingest_port, port = free_port(), free_port(), free_port()
    collector = collector_process(binary, tmp_path, http_port, ingest_port)
    sidecar = sidecar_process(binary, tmp_path, port, ingest_port, upstream_url, "closed")
    base = f"http://127.0.0.1:{port}"
    sidecar.start()
    try:
        # Listening but not linked: alive, not ready, and the reason says why.
        sidecar.wait_until_healthy(f"{base}/agentledger/healthz")
        not_ready = wait_for_status(f"{base}/agentledger/readyz", 503)
        assert not_ready["status"] == "not_ready"
        assert not_ready["reason"] == "collector_unavailable"
        assert "AGENTLEDGER_ON_COLLECTOR_DOWN=closed" in not_ready["message"]

        collector.start()
        collector.wait_until_healthy(f"http://127.0.0.1:{http_port}/healthz")
        ready = wait_for_status(f"{base}/agentledger/readyz", 200)
        assert ready == {"status": "ready", "collector_link": "up"}

        # A ready sidecar serves calls; the probes never reached the upstream.
        with http_client() as client:
            answer = client.post(
                f"{base}/v1/chat/completions",
                json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]},
                headers={"authorization": "Bearer sk-probe"},
            )
            assert answer.status_code == 200
            last = client.get(f"{upstream_url}/debug/last-request").json()
            assert last["path"] == "/v1/chat/completions"

        collector.stop()
        wait_for_status(f"{base}/agentledger/readyz", 503)
        with http_client() as client:
            assert client.get(f"{base}/agentledger/healthz").status_code == 200
    finally:
        sidecar.stop()
        collector.stop()


def test_open_mode_is_ready_without_a_collector(binary: Path, upstream_url: str, tmp_path: Path) -> None:
    port = free_port()
    sidecar = sidecar_process(binary, tmp_path, port, free_port(), upstream_url, "open")
    base = f"http://127.0.0.1:{port}"
    sidecar.start()
    try:
        sidecar.wait_until_healthy(f"{base}/agentledger/readyz")
        with http_client() as client:
            ready = client.get(f"{base}/agentledger/readyz")
            assert ready.json() == {"status": "ready", "collector_link": "down"}
            assert ready.headers["content-type"] == "application/json"
            assert client.head(f"{base}/agentledger/healthz").status_code == 200
            refused = client.post(f"{base}/agentledger/healthz", content=b"{}")
            assert refused.status_code == 405
            assert refused.headers["allow"] == "GET, HEAD"
    finally:
        sidecar.stop()


def test_up_serves_the_probes_beside_the_dashboard(ledger) -> None:
    with http_client() as client:
        assert client.get(f"{ledger.base_url}/agentledger/healthz").json() == {"status": "ok"}
        assert client.get(f"{ledger.base_url}/agentledger/readyz").status_code == 200
        assert client.get(f"{ledger.base_url}/healthz").status_code == 200
