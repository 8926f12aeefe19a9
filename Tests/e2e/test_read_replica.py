"""`AGENTLEDGER_READ_DSN` (issue 18, docs/operations.md "Several collectors"): the API, exports and MCP read from a
Postgres read replica while ingest writes to the primary. A real streaming replica of scripts/test's cluster
(pg_basebackup, hot standby on another loopback port), a real collector and sidecar: what the primary stores is read
through the replica; with the replica stopped, reads fail with the reason while calls are still stored."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Iterator
from urllib.parse import urlsplit

import pytest

from distributed import Fleet
from support import free_port, fresh_postgres_database, new_session_id

pytestmark = pytest.mark.timeout(180)


@contextlib.contextmanager
def streaming_replica(primary_dsn: str, log_path: Path) -> Iterator[tuple[int, Path, Path]]:
    """A hot standby of the test cluster on a free port: (port, its data directory, pg_ctl). Stopped at the end."""
    pg_ctl = os.environ.get("AGENTLEDGER_TEST_PG_CTL")
    if not pg_ctl or os.geteuid() != 0 or shutil.which("runuser") is None:
        pytest.skip("a replica needs AGENTLEDGER_TEST_PG_CTL, root and runuser (the cluster runs as postgres)")
    binaries = Path(pg_ctl).parent
    primary = urlsplit(primary_dsn)
    root = Path(tempfile.mkdtemp(prefix="al-replica-"))
    shutil.chown(root, "postgres", "postgres")
    data = root / "data"
    port = free_port()
    as_postgres = ["runuser", "-u", "postgres", "--"]
    with open(log_path, "ab") as log:
        def run(*args: str) -> None:
            result = subprocess.run([*as_postgres, *args], stdin=subprocess.DEVNULL, stdout=log,
                                    stderr=subprocess.STDOUT, timeout=120)
            assert result.returncode == 0, f"{args[0]} exited {result.returncode}: see {log_path}"

        run(str(binaries / "pg_basebackup"), "-h", primary.hostname or "127.0.0.1", "-p", str(primary.port or 5432),
            "-U", primary.username or "postgres", "-D", str(data), "-R", "-X", "stream", "--no-sync", "-c", "fast")
        options = f"-c port={port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={root} -c hot_standby=on"
        try:
            run(str(binaries / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "server.log"), "-w",
                "-t", "60", "start")
            yield port, data, binaries / "pg_ctl"
        finally:
            subprocess.run([*as_postgres, str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                           stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, timeout=60)
            shutil.rmtree(root, ignore_errors=True)


def test_the_api_reads_the_replica_and_ingest_writes_the_primary(fleet: Fleet, tmp_path: Path):
    primary_dsn = fresh_postgres_database("read_replica")
    with streaming_replica(primary_dsn, tmp_path / "replica.log") as (port, data, pg_ctl):
        parts = urlsplit(primary_dsn)
        replica_dsn = f"postgres://{parts.username or 'postgres'}@127.0.0.1:{port}{parts.path}"
        collector = fleet.collector(dsn=primary_dsn, AGENTLEDGER_READ_DSN=replica_dsn)
        sidecar = fleet.sidecar(collector.ingest_address)
        session = new_session_id("read-replica")
        ids = sidecar.calls(session, 3, "through the primary, read from the replica")

        # Stored in the primary, streamed to the replica, read there.
        deadline = time.monotonic() + 10
        status, records = 0, []
        while time.monotonic() < deadline:
            status, records = collector.get(f"/session/{session}")
            if status == 200 and isinstance(records, list) and len(records) == 3:
                break
            time.sleep(0.1)
        assert status == 200 and sorted(record["action_id"] for record in records) == sorted(ids), records
        status, sessions = collector.get("/api/sessions")
        assert status == 200 and [row["session_id"] for row in sessions] == [session], sessions

        # The replica stops: reads fail with the reason, the collector stays ready, calls are still stored.
        subprocess.run(["runuser", "-u", "postgres", "--", str(pg_ctl), "-D", str(data), "-m", "fast", "-w", "stop"],
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=60, check=True)
        status, body = collector.get("/api/sessions", timeout=30)
        assert status >= 500, (status, body)
        assert collector.get("/readyz")[0] == 200
        more = sidecar.calls(session, 2, "while the replica is down")
        stored = subprocess.run(
            ["psql", primary_dsn, "-X", "-A", "-t", "-c",
             f"SELECT count(*) FROM calls WHERE session_id = '{session}'"],
            capture_output=True, timeout=30, text=True,
        )
        deadline = time.monotonic() + 10
        while stored.stdout.strip() != "5" and time.monotonic() < deadline:
            time.sleep(0.2)
            stored = subprocess.run(
                ["psql", primary_dsn, "-X", "-A", "-t", "-c",
                 f"SELECT count(*) FROM calls WHERE session_id = '{session}'"],
                capture_output=True, timeout=30, text=True,
            )
        assert stored.stdout.strip() == "5", (stored.stdout, stored.stderr, more)
