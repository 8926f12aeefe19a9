"""The sidecar's spool on a disk that fills and frees, and a call larger than a frame (issue 14 items 4 and 6),
with a real `agentledger up` in front of the mock upstream."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import time
from pathlib import Path
from typing import Iterator

import pytest

from conftest import start_ledger
from distributed import Fleet, wait_stored_exactly_once
from support import Ledger, http_client, new_session_id

MODEL = "gpt-4o-mini"


def call(base_url: str, session_id: str, content: str, expect_ok: bool = True) -> str:
    """One chat completion through the proxy; returns its action id."""
    body = {"model": MODEL, "messages": [{"role": "user", "content": content}]}
    with http_client(timeout=120.0) as client:
        response = client.post(
            f"{base_url}/v1/chat/completions",
            content=json.dumps(body).encode(),
            headers={
                "content-type": "application/json",
                "authorization": "Bearer sk-e2e",
                "x-agentledger-session-id": session_id,
            },
        )
    if expect_ok:
        assert response.status_code == 200, response.text[:300]
    return response.headers["x-agentledger-action-id"]


def sidecar_metrics(base_url: str) -> dict[str, float]:
    with http_client() as client:
        response = client.get(f"{base_url}/agentledger/metrics")
    assert response.status_code == 200, response.text[:200]
    values = {}
    for line in response.text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            values[name] = float(value)
    return values


def stored_ids(ledger: Ledger, session_id: str, expected: int, timeout: float = 30.0) -> list[str]:
    return [record["action_id"] for record in ledger.session_records(session_id, expected, timeout=timeout)]


def test_a_call_larger_than_a_frame_is_stored_cut_and_later_calls_still_arrive(
    binary: Path, upstream_url: str, tmp_path: Path
) -> None:
    process, base_url = start_ledger(binary, upstream_url, tmp_path, AGENTLEDGER_MAX_BODY_MB="100")
    try:
        ledger = Ledger(base_url=base_url, upstream_url=upstream_url)
        session_id = new_session_id("huge")
        # 82 MiB: more than a whole 80 MiB frame. The mock upstream refuses bodies over 64 MiB; the call is recorded
        # whatever it answers.
        huge = call(base_url, session_id, "x" * (82 << 20), expect_ok=False)
        after = [call(base_url, session_id, f"after the large call {index}") for index in range(3)]
        records = ledger.session_records(session_id, 4, timeout=60)
        assert [record["action_id"] for record in records] == [huge, *after]
        cut = records[0]
        assert "truncated" in (cut.get("error_detail") or ""), cut.get("error_detail")
        assert [record["content"] for record in records[1:]] == [f"Echo: after the large call {i}" for i in range(3)]
        metrics = sidecar_metrics(base_url)
        assert metrics["agentledger_sidecar_records_cut_total"] == 1
        assert metrics["agentledger_sidecar_calls_dropped_total"] == 0
    finally:
        process.stop()


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB tmpfs, mounted for the test (root only) and unmounted after it."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount_point)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], capture_output=True)


def fill(directory: Path) -> Path:
    """Fills the file system of `directory` to the last byte; returns the filler file."""
    filler = directory / "filler"
    descriptor = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for size in (65536, 4096, 1):  # bounded: a 2 MiB disk takes at most 32 + 16 + 4096 writes
            for _ in range(4096):
                try:
                    os.write(descriptor, b"\0" * size)
                except OSError as error:
                    assert error.errno == errno.ENOSPC, error
                    break
    finally:
        os.close(descriptor)
    return filler


def test_a_full_spool_disk_loses_nothing_silently_and_delivery_resumes_when_space_returns(
    binary: Path, upstream_url: str, tmp_path: Path, small_disk: Path
) -> None:
    spool = small_disk / "spool"
    extra = {"AGENTLEDGER_SPOOL_DIR": str(spool)}
    process, base_url = start_ledger(binary, upstream_url, tmp_path, **extra)
    ledger = Ledger(base_url=base_url, upstream_url=upstream_url)
    session_id = new_session_id("disk-full")
    padding = "p" * 6000  # each record spans more than a page, so every append needs fresh space
    try:
        before = [call(base_url, session_id, f"before {index} {padding}") for index in range(5)]
        assert set(stored_ids(ledger, session_id, 5)) == set(before)

        filler = fill(small_disk)
        during = [call(base_url, session_id, f"during {index} {padding}") for index in range(10)]
        metrics = sidecar_metrics(base_url)
        assert metrics["agentledger_sidecar_spool_errors_total"] >= 5, metrics
        filler.unlink()

        after = [call(base_url, session_id, f"after {index} {padding}") for index in range(5)]
        captured = len(before) + len(during) + len(after)
        deadline = time.monotonic() + 30
        for _ in range(300):
            metrics = sidecar_metrics(base_url)
            done = metrics["agentledger_sidecar_calls_acknowledged_total"] + metrics["agentledger_sidecar_calls_dropped_total"]
            if done >= captured or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert metrics["agentledger_sidecar_calls_captured_total"] == captured
        dropped = int(metrics["agentledger_sidecar_calls_dropped_total"])
        stored = stored_ids(ledger, session_id, captured - dropped)
        assert len(stored) == len(set(stored)) == captured - dropped, "stored = captured - counted drops, once each"
        assert set(after) <= set(stored), "every call captured after space returned is stored"
        assert set(before) <= set(stored)
    finally:
        process.stop()

    # A restart over the same spool: recovery finds no torn record left behind, and nothing is lost or doubled.
    process, base_url = start_ledger(binary, upstream_url, tmp_path, **extra)
    try:
        last = call(base_url, session_id, "after the restart")
        stored = stored_ids(Ledger(base_url=base_url, upstream_url=upstream_url), session_id, captured - dropped + 1)
        assert len(stored) == len(set(stored)) == captured - dropped + 1
        assert last in stored
        assert sidecar_metrics(base_url)["agentledger_sidecar_spool_torn_bytes_total"] == 0
    finally:
        process.stop()


def test_a_sidecar_whose_spool_disk_fills_while_the_collector_is_down_delivers_everything_later(
    fleet: Fleet, small_disk: Path
) -> None:
    """The records wait on disk (no link), so delivery reads back segments that took failed appends."""
    collector = fleet.collector(start=False)
    sidecar = fleet.sidecar(collector.ingest_address, source="pod-full-disk", spool_dir=small_disk / "spool")
    session_id = new_session_id("disk-full-offline")
    padding = "p" * 6000
    action_ids = sidecar.calls(session_id, 5, f"before {padding}")
    filler = fill(small_disk)
    action_ids += sidecar.calls(session_id, 10, f"during {padding}")
    filler.unlink()
    action_ids += sidecar.calls(session_id, 5, f"after {padding}")
    metrics = sidecar_metrics(sidecar.url)
    assert metrics["agentledger_sidecar_spool_errors_total"] >= 5, metrics
    assert metrics["agentledger_sidecar_calls_dropped_total"] == 0, "the memory queue held the calls the disk refused"

    collector.start()
    wait_stored_exactly_once(collector.get, session_id, action_ids, timeout=30, diagnostics=fleet.logs)

    # SIGKILL and restart over the same spool: nothing torn was left behind, nothing is replayed twice.
    sidecar.kill()
    sidecar.start()
    action_ids += sidecar.calls(session_id, 1, "after the restart")
    wait_stored_exactly_once(collector.get, session_id, action_ids, timeout=30, diagnostics=fleet.logs)
    assert sidecar_metrics(sidecar.url)["agentledger_sidecar_spool_torn_bytes_total"] == 0
