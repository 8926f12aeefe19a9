"""Hostile and absurd records sent straight to a real collector's ingest port (issue 14 items 1-3).

A record from the end of time, token counts near 2**63 and negative ones: the collector stays up, stores what it can,
quarantines the rest, acknowledges the batch, reads its sessions and exports, and starts again on the same store.
"""

from __future__ import annotations

import socket
import struct
import uuid

from distributed import Fleet
from support import new_session_id

HELLO, WELCOME, RECORDS, ACK = 0x01, 0x02, 0x05, 0x06
INT64_MAX = 2**63 - 1


def frame(message_type: int, payload: bytes) -> bytes:
    return struct.pack(">IBB", 2 + len(payload), 1, message_type) + payload


def string(value: str | bytes) -> bytes:
    raw = value.encode() if isinstance(value, str) else value
    return struct.pack(">I", len(raw)) + raw


def hello(source: str) -> bytes:
    return frame(HELLO, struct.pack(">H", 1) + string(source) + struct.pack(">I", 0xFFFFFFFF) + string("test"))


def field(tag: int, value: bytes) -> bytes:
    return bytes([tag]) + string(value)


def record(action_id: str, session_id: str, usage: str, arrived: int = 1_790_000_000_000_000) -> bytes:
    """A captured chat call (docs/protocol.md, "RECORDS") whose response reports `usage`."""
    request = b'{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}'
    response = (
        '{"id":"c","object":"chat.completion","model":"gpt-4o-mini","choices":[{"index":0,'
        '"message":{"role":"assistant","content":"hello"},"finish_reason":"stop"}],"usage":' + usage + "}"
    ).encode()
    headers = struct.pack(">I", 1) + string("content-type") + string("application/json")
    return b"".join(
        [
            field(1, action_id.encode()),
            field(2, struct.pack(">q", arrived)),
            field(3, b"POST"),
            field(4, b"/v1/chat/completions"),
            field(5, b"forged-source"),
            field(6, session_id.encode()),
            field(15, request),
            field(17, struct.pack(">H", 200)),
            field(18, headers),
            field(19, response),
            field(22, struct.pack(">q", 2_000)),
        ]
    )


def records_frame(batch_id: int, records: list[bytes]) -> bytes:
    return frame(RECORDS, struct.pack(">QI", batch_id, len(records)) + b"".join(string(r) for r in records))


def read_frame(sock: socket.socket) -> tuple[int, bytes]:
    header = b""
    for _ in range(100):
        if len(header) >= 4:
            break
        chunk = sock.recv(4 - len(header))
        assert chunk, "the collector closed the link"
        header += chunk
    length = struct.unpack(">I", header)[0]
    body = b""
    for _ in range(10_000):
        if len(body) >= length:
            break
        chunk = sock.recv(length - len(body))
        assert chunk, "the collector closed the link mid-frame"
        body += chunk
    return body[1], body[2:]


def test_hostile_records_neither_kill_nor_poison_the_collector(fleet: Fleet) -> None:
    collector = fleet.collector(AGENTLEDGER_BUDGET_DAILY="5")
    session_id = new_session_id("hostile")
    ids = [str(uuid.uuid4()) for _ in range(5)]
    batch = [
        record(ids[0], session_id, '{"prompt_tokens":5,"completion_tokens":1}', arrived=INT64_MAX),
        record(ids[1], session_id, f'{{"prompt_tokens":{INT64_MAX},"completion_tokens":{INT64_MAX}}}'),
        record(ids[2], session_id, f'{{"prompt_tokens":{INT64_MAX},"completion_tokens":1}}'),
        record(ids[3], session_id, '{"prompt_tokens":-1000000000000,"completion_tokens":2}'),
        record(ids[4], session_id, '{"prompt_tokens":5,"completion_tokens":1}'),
    ]
    with socket.create_connection(("127.0.0.1", collector.ingest_port), timeout=10.0) as sock:
        sock.sendall(hello("pod-hostile"))
        assert read_frame(sock)[0] == WELCOME
        sock.sendall(records_frame(1, batch))
        kind, payload = read_frame(sock)
        assert kind == ACK, f"answered type {kind}: {payload[:80]!r}\n{collector.log_tail()}"
        batch_id, stored, duplicates = struct.unpack(">QII", payload)
        assert (batch_id, stored, duplicates) == (1, 4, 0)

    assert collector.process is not None and collector.process.process.poll() is None, "the collector died"
    status, calls = collector.get(f"/session/{session_id}")
    assert status == 200 and isinstance(calls, list) and len(calls) == 4, calls
    assert all(call["source"] == "pod-hostile" for call in calls), "records must carry the source their link proved"
    assert all(call["tokens_in"] is None for call in calls if call["action_id"] != ids[4])
    assert all((call["cost_usd"] or 0) >= 0 for call in calls)
    assert any("not counted" in (call["error_detail"] or "") for call in calls)

    status, sessions = collector.get("/api/sessions?limit=200")
    assert status == 200, sessions
    assert collector.get(f"/export/{session_id}")[0] == 200
    status, quarantined = collector.get("/api/quarantine?limit=200")
    assert status == 200 and any(q["action_id"] == ids[0] for q in quarantined), quarantined
    assert "arrival time" in next(q["reason"] for q in quarantined if q["action_id"] == ids[0])
    metrics = collector.metrics()
    assert metrics.get("agentledger_records_quarantined_total", 0) >= 1
    assert metrics.get("agentledger_usage_rejected_total", 0) >= 4

    # The day's spend is read back at start-up with budgets set: the restart must not trap on what is stored.
    collector.kill()
    collector.start()
    assert collector.get("/api/sessions")[0] == 200
    status, session = collector.get(f"/export/{session_id}")
    assert status == 200 and session["session"]["total_cost_usd"] >= 0, session
