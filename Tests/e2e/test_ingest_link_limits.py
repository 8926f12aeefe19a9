"""The collector's ingest link against hostile peers and per-sidecar tokens, with real processes
(docs/operations.md, "Ingest link")."""

from __future__ import annotations

import signal
import socket
import struct
import subprocess
import time
from pathlib import Path

from distributed import Fleet, wait_stored_exactly_once
from support import new_session_id

FRAME_80_MIB = 80 << 20
WIRE_VERSION = 1
RECORDS_TYPE = 0x03


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def flood_until_closed(address: tuple[str, int], payload_limit: int) -> bool:
    """Announces an 80 MiB frame before HELLO and sends up to `payload_limit` bytes of it; True once the server closed."""
    with socket.create_connection(address, timeout=5) as peer:
        peer.settimeout(0.5)
        peer.sendall(struct.pack(">IBB", FRAME_80_MIB, WIRE_VERSION, RECORDS_TYPE))
        chunk = b"A" * 65536
        sent = 0
        for _ in range(payload_limit // len(chunk)):  # bounded: at most payload_limit bytes
            try:
                peer.sendall(chunk)
                sent += len(chunk)
            except OSError:
                return True
        try:
            return peer.recv(65536) is not None  # the ERROR frame, or b"" once closed
        except socket.timeout:
            return False
        except OSError:
            return True


def test_unauthenticated_peers_sending_huge_frames_are_closed_and_memory_stays_bounded(fleet: Fleet) -> None:
    collector = fleet.collector()
    sidecar = fleet.sidecar(collector.ingest_address, source="pod-good")
    session_id = new_session_id("flood")
    assert collector.process is not None and collector.process.process is not None
    pid = collector.process.process.pid
    sidecar.calls(new_session_id("warm-up"), 1, "warm-up")
    before = rss_bytes(pid)

    address = ("127.0.0.1", collector.ingest_port)
    closed = [flood_until_closed(address, 8 << 20) for _ in range(25)]
    good_ids = sidecar.calls(session_id, 3, "during the flood")
    after = rss_bytes(pid)

    assert all(closed), closed
    # Before the fix each peer could make the collector hold its 8 MiB (25 x 8 MiB = 200 MiB).
    assert after - before < 64 << 20, f"RSS grew from {before} to {after}"
    collector.wait_for_metric("agentledger_ingest_bad_frames_total", 25, timeout=10)
    wait_stored_exactly_once(collector.get, session_id, good_ids, timeout=15, diagnostics=fleet.logs)


def test_a_tokens_file_binds_each_token_to_its_source(fleet: Fleet, tmp_path: Path) -> None:
    tokens = tmp_path / "ingest-tokens"
    tokens.write_text("# source token\npod-a tok-a\npod-b tok-b\n")
    collector = fleet.collector(AGENTLEDGER_INGEST_TOKENS_FILE=str(tokens))
    right = fleet.sidecar(collector.ingest_address, source="pod-a", token="tok-a")
    borrowed = fleet.sidecar(collector.ingest_address, source="pod-c", token="tok-a")
    good_session, refused_session = new_session_id("bound-token"), new_session_id("borrowed-token")

    good_ids = right.calls(good_session, 2, "accepted link")
    assert len(borrowed.calls(refused_session, 2, "refused link")) == 2
    collector.wait_for_metric("agentledger_sidecar_links_refused_total", 1, timeout=10)
    wait_stored_exactly_once(collector.get, good_session, good_ids, timeout=15, diagnostics=fleet.logs)
    time.sleep(1.0)
    status, _ = collector.get(f"/session/{refused_session}")
    assert status == 404
    assert "tok-a" not in collector.log_tail(200)


def test_a_bad_tokens_file_stops_start_up_naming_the_variable(fleet: Fleet, tmp_path: Path) -> None:
    tokens = tmp_path / "ingest-tokens"
    tokens.write_text("pod-a\n")
    collector = fleet.collector(start=False, AGENTLEDGER_INGEST_TOKENS_FILE=str(tokens))
    result = subprocess.run(
        [str(collector.binary), "collector"], env=collector.env(), cwd=collector.workdir, capture_output=True,
        text=True, timeout=30,
    )
    assert result.returncode == 2, result.stderr
    assert "AGENTLEDGER_INGEST_TOKENS_FILE" in result.stderr + result.stdout


def test_sighup_reloads_the_tokens_file(fleet: Fleet, tmp_path: Path) -> None:
    tokens = tmp_path / "ingest-tokens"
    tokens.write_text("pod-a tok-a\n")
    collector = fleet.collector(AGENTLEDGER_INGEST_TOKENS_FILE=str(tokens))
    assert collector.process is not None and collector.process.process is not None
    tokens.write_text("pod-a tok-a\npod-new tok-new\n")
    collector.process.process.send_signal(signal.SIGHUP)
    time.sleep(0.5)
    newcomer = fleet.sidecar(collector.ingest_address, source="pod-new", token="tok-new")
    session_id = new_session_id("reloaded-token")
    ids = newcomer.calls(session_id, 1, "after reload")
    wait_stored_exactly_once(collector.get, session_id, ids, timeout=15, diagnostics=fleet.logs)
    assert collector.process.process.poll() is None
