"""`agentledger up` overloaded (issue 20): for 30 s its store takes nothing, because another process holds SQLite's
write lock, while agents keep calling through it. Every call is answered, memory stays bounded (the records wait in
the spool on disk, not in queues), and once the lock is let go every call is stored exactly once, the backlog on the
store's catch-up thread.

Not a timing test: the bounds are on memory and on counts; every loop is bounded in count and time."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from conftest import start_ledger
from distributed import parse_metrics
from support import http_client, new_session_id

pytestmark = pytest.mark.timeout(300)

LOAD_SECONDS = 30
AGENTS = 8
# What the process may grow by while its store takes nothing: the spool's buffers and the bounded queues, far below
# what 30 s of calls would take in memory (every call here carries ~2 KB each way).
GROWTH_BOUND_MIB = 48


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def spool_bytes(spool: Path) -> int:
    return sum(path.stat().st_size for path in spool.rglob("*") if path.is_file())


def stored(database: Path) -> tuple[int, int]:
    """Calls in the store and distinct action ids among them, read without taking the write lock."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=10) as reader:
        total, distinct = reader.execute("SELECT count(*), count(DISTINCT action_id) FROM calls").fetchone()
    return total, distinct


def test_up_overloaded_keeps_memory_bounded_and_stores_every_call_once(binary, upstream_url, tmp_path):
    process, base = start_ledger(binary, upstream_url, tmp_path)
    database = tmp_path / "ledger.db"
    spool = tmp_path / "spool"
    pid = process.process.pid
    prompt = "Summarize the filing and list the figures that answer the question. " * 30  # ~2 KB
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": prompt}]}
    try:
        # Warm up, and the idle figure once the first calls are stored.
        with http_client() as client:
            for index in range(20):
                answer = client.post(f"{base}/v1/chat/completions", json=body,
                                     headers={"x-agentledger-session-id": new_session_id(f"warm-{index}")})
                assert answer.status_code == 200, answer.text
        deadline = time.monotonic() + 20
        while stored(database)[0] < 20 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert stored(database)[0] == 20
        idle = rss_mib(pid)

        # Another process takes SQLite's write lock: the store can commit nothing while it is held.
        holder = sqlite3.connect(database, timeout=10, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        answered = 0
        failures: list[str] = []
        peak = idle
        lock = threading.Lock()
        stop = threading.Event()

        def agent(number: int) -> None:
            nonlocal answered
            with http_client() as client:
                calls = 0
                while not stop.is_set() and calls < 50_000:
                    calls += 1
                    try:
                        answer = client.post(f"{base}/v1/chat/completions", json=body,
                                             headers={"x-agentledger-session-id": f"overload-{number}"})
                    except Exception as error:  # noqa: BLE001 - reported below
                        failures.append(repr(error))
                        continue
                    with lock:
                        if answer.status_code == 200:
                            answered += 1
                        else:
                            failures.append(f"{answer.status_code}: {answer.text[:200]}")

        agents = [threading.Thread(target=agent, args=(number,)) for number in range(AGENTS)]
        for thread in agents:
            thread.start()
        started = time.monotonic()
        while time.monotonic() - started < LOAD_SECONDS:
            peak = max(peak, rss_mib(pid))
            time.sleep(0.25)
        stop.set()
        for thread in agents:
            thread.join(timeout=30)
        peak = max(peak, rss_mib(pid))
        waiting = spool_bytes(spool)
        during = stored(database)[0]
        holder.execute("ROLLBACK")
        holder.close()

        print(f"\n{answered} calls answered in {LOAD_SECONDS} s with the store locked; RSS idle {idle:.0f} MiB, "
              f"peak {peak:.0f} MiB; spool {waiting / 1e6:.1f} MB; stored meanwhile {during - 20}")
        assert not failures, failures[:5]
        assert answered > 1_000, "too few calls to overload anything"
        assert during == 20, "nothing could be stored while the lock was held"
        assert waiting > answered * 1_000, "the calls waited somewhere other than the spool"
        assert peak - idle < GROWTH_BOUND_MIB, f"RSS grew from {idle:.0f} to {peak:.0f} MiB"

        # The lock let go: every call is stored, once, and the spool empties.
        deadline = time.monotonic() + 120
        while stored(database)[0] < 20 + answered and time.monotonic() < deadline:
            time.sleep(0.5)
        total, distinct = stored(database)
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=10) as reader:
            quarantined = reader.execute("SELECT count(*) FROM quarantine").fetchone()[0]
        print(f"stored {total - 20} of them {time.monotonic() - (deadline - 120):.1f} s after the lock was let go")
        assert quarantined == 0, "a busy store refuses nothing for good: nothing is quarantined"
        assert total == distinct == 20 + answered, f"{total} stored ({distinct} distinct) of {20 + answered}"
        # The backlog was seconds old: the store moved its work to the catch-up thread, at the proxy's priority
        # (docs/operations.md, "One machine: `up` under load").
        with http_client() as client:
            catch_ups = parse_metrics(client.get(f"{base}/metrics").text).get("agentledger_store_catch_ups_total", 0)
        assert catch_ups >= 1, "a backlog seconds old did not move the store's work to the catch-up thread"
        deadline = time.monotonic() + 30
        while spool_bytes(spool) > 64 * 1024 and time.monotonic() < deadline:
            time.sleep(0.5)
        assert spool_bytes(spool) <= 64 * 1024, f"{spool_bytes(spool)} bytes still spooled"
        assert process.process.poll() is None
    finally:
        process.stop()
