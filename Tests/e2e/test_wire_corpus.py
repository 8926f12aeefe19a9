"""The golden wire corpus (Tests/Fixtures/wire) replayed through the real binary.

A small HTTP server plays the upstream: it answers each request with the raw bytes of the fixture named in
the `x-wire-fixture` header (streams in small chunked pieces, a dropped connection where `upstream.json` says
so). The request goes through `agentledger up`, and the stored record (`/explain/{action_id}`) must hold the
fields of the fixture's `expected.json`.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from support import (
    REPO_ROOT,
    Ledger,
    ManagedProcess,
    free_port,
    http_client,
    ledger_env,
    new_session_id,
)

CORPUS = REPO_ROOT / "Tests" / "Fixtures" / "wire"
FIXTURES = sorted(path.name for path in CORPUS.iterdir() if (path / "expected.json").is_file())
PIECE_BYTES = 37


def fixture_path(name: str) -> str:
    """The API path of a fixture, from its name (see Tests/Fixtures/wire/README.md)."""
    if name.startswith("anthropic-"):
        return "/v1/messages"
    if name.startswith("responses-"):
        return "/v1/responses"
    return "/v1/chat/completions"


class FixtureUpstream(BaseHTTPRequestHandler):
    """Answers with the raw response bytes of the fixture named in `x-wire-fixture`."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def read_body(self) -> bytes:
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    self.rfile.readline()
                    return body
                body += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("content-length", "0")))

    def do_POST(self) -> None:
        self.read_body()
        directory = CORPUS / self.headers.get("x-wire-fixture", "")
        upstream = json.loads((directory / "upstream.json").read_text()) if (directory / "upstream.json").is_file() else {}
        sse = directory / "response.sse"
        body = sse.read_bytes() if sse.is_file() else (directory / "response.json").read_bytes()
        self.send_response(upstream.get("status", 200))
        self.send_header("content-type", "text/event-stream; charset=utf-8" if sse.is_file() else "application/json")
        for name, value in upstream.get("headers", {}).items():
            self.send_header(name, value)
        if not sse.is_file():
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        for start in range(0, len(body), PIECE_BYTES):
            piece = body[start : start + PIECE_BYTES]
            self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self.wfile.flush()
        if upstream.get("disconnect"):
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.wfile.write(b"0\r\n\r\n")


@pytest.fixture(scope="module")
def corpus_ledger(binary: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ledger]:
    """`agentledger up` in front of the fixture upstream."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), FixtureUpstream)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    upstream_url = f"http://127.0.0.1:{server.server_address[1]}"
    workdir = tmp_path_factory.mktemp("wire-corpus")
    proxy_port, ingest_port = free_port(), free_port()
    process = ManagedProcess(
        name="agentledger up",
        args=[str(binary), "up"],
        env=ledger_env(proxy_port, ingest_port, upstream_url, workdir),
        cwd=workdir,
        log_path=workdir / "up.log",
    )
    process.start()
    base_url = f"http://127.0.0.1:{proxy_port}"
    try:
        process.wait_until_healthy(f"{base_url}/healthz")
        yield Ledger(base_url=base_url, upstream_url=upstream_url)
    finally:
        process.stop()
        server.shutdown()
        server.server_close()


def send(ledger: Ledger, name: str) -> str:
    """Sends the fixture's request through the proxy, reads the whole answer, returns the action id."""
    request = (CORPUS / name / "request.json").read_bytes()
    headers = {
        "content-type": "application/json",
        "authorization": "Bearer sk-wire-corpus",
        "x-api-key": "sk-ant-wire-corpus",
        "anthropic-version": "2023-06-01",
        "x-wire-fixture": name,
        "x-agentledger-session-id": new_session_id("wire"),
    }
    with http_client() as client:
        with client.stream("POST", f"{ledger.base_url}{fixture_path(name)}", content=request, headers=headers) as response:
            action_id = response.headers["x-agentledger-action-id"]
            try:
                response.read()
            except httpx.HTTPError:
                pass
    return action_id


def explain(ledger: Ledger, action_id: str, timeout: float = 10.0) -> dict:
    deadline = time.monotonic() + timeout
    with http_client() as client:
        for _ in range(200):
            response = client.get(f"{ledger.base_url}/explain/{action_id}")
            if response.status_code == 200:
                return response.json()
            if time.monotonic() > deadline:
                break
            time.sleep(0.1)
    raise AssertionError(f"/explain/{action_id} did not find the record within {timeout} s")


def mismatches(record: dict, expected: dict) -> list[str]:
    problems = []
    for key, want in expected.items():
        if key == "messages_count":
            got = len(record["messages"])
        elif key == "error_detail_contains":
            if want not in (record["error_detail"] or ""):
                problems.append(f"error_detail {record['error_detail']!r} lacks {want!r}")
            continue
        elif key == "tool_results" and record[key] is not None:
            got = [{"tool_call_id": result["tool_call_id"], "content": result["content"]} for result in record[key]]
        else:
            got = record.get(key, "absent")
        if got != want:
            problems.append(f"{key}: want {want!r}, got {got!r}")
    return problems


def test_the_corpus_is_there() -> None:
    assert len(FIXTURES) >= 15


@pytest.mark.parametrize("name", FIXTURES)
def test_fixture_through_the_binary(corpus_ledger: Ledger, name: str) -> None:
    expected = json.loads((CORPUS / name / "expected.json").read_text())
    action_id = send(corpus_ledger, name)
    record = explain(corpus_ledger, action_id)
    assert record["action_id"] == action_id
    assert mismatches(record, expected) == []
