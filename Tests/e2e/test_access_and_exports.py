"""API-key access control and audit exports through a real `agentledger up` (docs/reference.md, "Access" and
"Exports"), and `agentledger verify-export` on the file a user downloads."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Iterator

import pytest

from conftest import start_ledger
from support import Ledger, http_client, new_session_id, openai_client

API_KEY = "ledger-key-7f3a91"
HMAC_KEY = "export-signing-key"


@pytest.fixture(scope="module")
def locked(binary: Path, upstream_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ledger]:
    process, base_url = start_ledger(
        binary, upstream_url, tmp_path_factory.mktemp("locked"), AGENTLEDGER_API_KEY=API_KEY,
        AGENTLEDGER_EXPORT_HMAC_KEY=HMAC_KEY,
    )
    try:
        yield Ledger(base_url=base_url, upstream_url=upstream_url)
    finally:
        log = process.log_tail(400)
        process.stop()
        assert API_KEY not in log and HMAC_KEY not in log, "a key reached the log"


def recorded_session(ledger: Ledger) -> str:
    session = new_session_id("audit")
    client = openai_client(ledger.base_url, headers={"x-agentledger-session-id": session})
    for text in ["first <script>alert(1)</script>", 'second "quoted" & more']:
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": text}])
    with http_client() as http:
        for _ in range(100):
            response = http.get(f"{ledger.base_url}/session/{session}", headers={"x-agentledger-api-key": API_KEY})
            if response.status_code == 200 and len(response.json()) == 2:
                return session
            time.sleep(0.1)
    raise AssertionError("the session's records did not arrive")


def test_every_data_path_needs_the_key_and_the_proxy_does_not(locked: Ledger):
    session = recorded_session(locked)
    paths = [
        "/api/sessions", f"/session/{session}", "/api/search?q=first", "/api/stats", "/api/budgets", "/metrics",
        f"/export/{session}", f"/export/{session}/report",
    ]
    with http_client() as http:
        for path in paths:
            refused = http.get(locked.base_url + path)
            assert refused.status_code == 401 and refused.json() == {"detail": "Unauthorized"}, path
            wrong = http.get(locked.base_url + path, headers={"x-agentledger-api-key": "nope"})
            assert wrong.status_code == 401, path
            spoofed = http.get(locked.base_url + path, headers={"x-forwarded-for": "127.0.0.1", "x-real-ip": "127.0.0.1"})
            assert spoofed.status_code == 401, path
            assert http.get(locked.base_url + path, headers={"x-agentledger-api-key": API_KEY}).status_code == 200, path
            assert http.get(locked.base_url + path, headers={"authorization": f"Bearer {API_KEY}"}).status_code == 200, path
            in_url = http.get(f"{locked.base_url}{path}{'&' if '?' in path else '?'}api_key={API_KEY}")
            assert in_url.status_code == 401, f"{path}: a key in the URL was accepted"
        for open_path in ["/healthz", "/readyz"]:
            assert http.get(locked.base_url + open_path).status_code == 200


def test_a_fresh_export_verifies_and_one_changed_byte_does_not(locked: Ledger, binary: Path, tmp_path: Path):
    session = recorded_session(locked)
    with http_client() as http:
        response = http.get(f"{locked.base_url}/export/{session}", headers={"x-agentledger-api-key": API_KEY})
        report = http.get(f"{locked.base_url}/export/{session}/report", headers={"x-agentledger-api-key": API_KEY})
    assert response.status_code == 200
    document = response.json()
    assert document["export"]["integrity"].startswith("sha256:")
    assert document["export"]["signature"].startswith("hmac-sha256:")
    assert document["session"]["session_id"] == session and len(document["calls"]) == 2
    assert "<script>alert(1)</script>" not in report.text and "&lt;script&gt;" in report.text

    exported = tmp_path / "export.json"
    exported.write_bytes(response.content)

    def verify(path: Path, *extra: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(binary), "verify-export", str(path), *extra], capture_output=True, text=True, timeout=30, env={}
        )

    assert verify(exported).returncode == 0
    valid = verify(exported, "--hmac-key", HMAC_KEY)
    assert valid.returncode == 0, valid.stdout + valid.stderr
    assert verify(exported, "--hmac-key", "wrong-key").returncode == 1

    tampered = tmp_path / "tampered.json"
    tampered.write_bytes(response.content.replace(b"first <script>", b"First <script>", 1))
    assert tampered.read_bytes() != response.content
    result = verify(tampered)
    assert result.returncode == 1, result.stdout + result.stderr

    garbage = tmp_path / "garbage.json"
    garbage.write_text("not json")
    assert verify(garbage).returncode == 2
    assert verify(tmp_path / "missing.json").returncode == 2
