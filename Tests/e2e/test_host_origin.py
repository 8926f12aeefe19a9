"""Origin and Host checks on the HTTP API, exports and `/ws` of a real `agentledger up` (issue 14 item 8): a page on
another origin or behind a rebound DNS name is refused 403, naming the setting; curl, the dashboard, probes and
the proxied calls are not affected."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path
from typing import Iterator

import pytest

from conftest import start_ledger
from support import Ledger, free_port, http_client, ledger_env, openai_client


def port_of(ledger: Ledger) -> int:
    return int(ledger.base_url.rsplit(":", 1)[1])


def ws_handshake(port: int, host: str, origin: str | None) -> str:
    """The status line `/ws` answers a browser-like handshake with (bounded by a 10 s timeout)."""
    lines = [
        "GET /ws HTTP/1.1", f"Host: {host}", "Upgrade: websocket", "Connection: Upgrade",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13",
    ]
    if origin is not None:
        lines.append(f"Origin: {origin}")
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        received = b""
        for _ in range(100):
            chunk = sock.recv(4096)
            if not chunk:
                break
            received += chunk
            if b"\r\n" in received:
                break
    return received.split(b"\r\n", 1)[0].decode(errors="replace")


def test_a_foreign_origin_is_refused_on_every_data_path(ledger: Ledger):
    port = port_of(ledger)
    with http_client() as http:
        for path in ["/api/sessions", "/api/stats", "/metrics", "/export/none", "/session/none", "/"]:
            refused = http.get(ledger.base_url + path, headers={"Origin": "https://evil.example"})
            assert refused.status_code == 403, path
            assert "AGENTLEDGER_ALLOWED_ORIGINS" in refused.json()["detail"], path
        same = http.get(ledger.base_url + "/api/sessions", headers={"Origin": f"http://127.0.0.1:{port}"})
        assert same.status_code == 200
        plain = http.get(ledger.base_url + "/api/sessions")
        assert plain.status_code == 200


def test_a_rebound_dns_name_is_refused_but_probes_answer(ledger: Ledger):
    port = port_of(ledger)
    with http_client() as http:
        for path in ["/api/sessions", "/", "/api/search?q=x"]:
            refused = http.get(ledger.base_url + path, headers={"Host": f"rebind.evil.example:{port}"})
            assert refused.status_code == 403, path
            detail = refused.json()["detail"]
            assert "AGENTLEDGER_ALLOWED_HOSTS" in detail and "AGENTLEDGER_API_KEY" in detail, detail
        for host in [f"localhost:{port}", f"127.0.0.1:{port}"]:
            assert http.get(ledger.base_url + "/api/sessions", headers={"Host": host}).status_code == 200
        for path in ["/healthz", "/readyz"]:
            probe = http.get(ledger.base_url + path, headers={"Host": "ledger.svc.cluster.local", "Origin": "null"})
            assert probe.status_code == 200, path
        metrics = http.get(ledger.base_url + "/metrics").text
    assert 'agentledger_http_refused_total{reason="host"}' in metrics


def test_the_live_feed_needs_an_allowed_origin(ledger: Ledger):
    """A refused handshake is not upgraded: Hummingbird answers a refused upgrade 400, with no body."""
    port = port_of(ledger)
    for _ in range(3):
        assert ws_handshake(port, f"127.0.0.1:{port}", "https://evil.example").startswith("HTTP/1.1 400")
        assert ws_handshake(port, f"evil.example:{port}", f"http://evil.example:{port}").startswith("HTTP/1.1 400")
    assert ws_handshake(port, f"127.0.0.1:{port}", f"http://127.0.0.1:{port}").startswith("HTTP/1.1 101")
    assert ws_handshake(port, f"localhost:{port}", None).startswith("HTTP/1.1 101")


def test_proxied_calls_are_not_checked(ledger: Ledger):
    client = openai_client(
        ledger.base_url, headers={"Origin": "https://evil.example", "Host": "api.openai.com"}
    )
    reply = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    assert reply.choices


@pytest.fixture(scope="module")
def listed(binary: Path, upstream_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ledger]:
    process, base_url = start_ledger(
        binary, upstream_url, tmp_path_factory.mktemp("listed"),
        AGENTLEDGER_ALLOWED_HOSTS="ledger.test,*.corp.test", AGENTLEDGER_ALLOWED_ORIGINS="https://dash.corp.test",
    )
    try:
        yield Ledger(base_url=base_url, upstream_url=upstream_url)
    finally:
        process.stop()


def test_listed_hosts_and_origins_are_served(listed: Ledger):
    port = port_of(listed)
    with http_client() as http:
        for host in [f"ledger.test:{port}", f"a.corp.test:{port}"]:
            assert http.get(listed.base_url + "/api/sessions", headers={"Host": host}).status_code == 200, host
        assert http.get(listed.base_url + "/api/sessions", headers={"Host": "other.test"}).status_code == 403
        listed_origin = http.get(listed.base_url + "/api/sessions", headers={"Origin": "https://dash.corp.test"})
        assert listed_origin.status_code == 200
    assert ws_handshake(port, f"ledger.test:{port}", "https://dash.corp.test").startswith("HTTP/1.1 101")


def test_a_bad_allowed_origin_stops_start_up_naming_the_variable(binary: Path, tmp_path: Path):
    env = ledger_env(free_port(), free_port(), "http://127.0.0.1:9", tmp_path, AGENTLEDGER_ALLOWED_ORIGINS="dash.example")
    result = subprocess.run(
        [str(binary), "up"], env=env, cwd=tmp_path, stdin=subprocess.DEVNULL, capture_output=True, timeout=30
    )
    assert result.returncode == 2
    lines = [line for line in result.stderr.decode(errors="replace").splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("agentledger: AGENTLEDGER_ALLOWED_ORIGINS"), lines
