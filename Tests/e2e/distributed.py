"""Helpers for the distributed-mode tests: separate `agentledger sidecar` and `agentledger collector` processes,
an agent thread calling through a sidecar, Postgres stop/start, and the exactly-once check.

Every wait here is bounded twice: by a deadline and by a maximum number of iterations.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import httpx

from support import API_KEY_OPENAI, ManagedProcess, free_port, fresh_postgres_database, http_client

MODEL = "gpt-4o-mini"
POSTGRES_DSN_VARIABLE = "AGENTLEDGER_TEST_POSTGRES_DSN"


def clean_env(**extra: str) -> dict[str, str]:
    """The test's environment without any AGENTLEDGER_ setting of the caller, plus `extra`."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AGENTLEDGER_", "AGENTICLEDGER_"))}
    env.update(extra)
    return env


def store_dsn(workdir: Path) -> str:
    """Postgres when the test run has one (AGENTLEDGER_TEST_POSTGRES_DSN), else a fresh SQLite file."""
    return os.environ.get(POSTGRES_DSN_VARIABLE) or f"sqlite:///{workdir / 'collector.db'}"


def parse_metrics(text: str) -> dict[str, float]:
    """Prometheus text format to {name: value}, summing the series of a name across labels."""
    values: dict[str, float] = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.rsplit(None, 1)
        if len(parts) != 2:
            continue
        name = parts[0].split("{", 1)[0].strip()
        try:
            values[name] = values.get(name, 0.0) + float(parts[1])
        except ValueError:
            continue
    return values


@dataclass
class CallResult:
    status: int
    action_id: str | None
    body: str


def chat_call(client: httpx.Client, base_url: str, session_id: str, text: str) -> CallResult:
    """One non-streaming OpenAI chat call through a sidecar."""
    response = client.post(
        f"{base_url}/v1/chat/completions",
        json={"model": MODEL, "messages": [{"role": "user", "content": text}]},
        headers={"authorization": f"Bearer {API_KEY_OPENAI}", "x-agentledger-session-id": session_id},
    )
    return CallResult(response.status_code, response.headers.get("x-agentledger-action-id"), response.text[:500])


class Agent(threading.Thread):
    """Makes `count` calls through a sidecar, one every `interval` seconds, from a background thread."""

    def __init__(self, base_url: str, session_id: str, count: int, interval: float, label: str = "agent") -> None:
        super().__init__(name=f"agent-{label}", daemon=True)
        self.base_url = base_url
        self.session_id = session_id
        self.count = count
        self.interval = interval
        self.label = label
        self.results: list[CallResult] = []
        self.errors: list[str] = []
        self.calls_done = 0

    def run(self) -> None:
        with http_client(timeout=10.0) as client:
            for index in range(self.count):
                started = time.monotonic()
                try:
                    self.results.append(chat_call(client, self.base_url, self.session_id, f"{self.label} call {index}"))
                except httpx.HTTPError as error:
                    self.errors.append(f"call {index}: {error!r}")
                self.calls_done = index + 1
                time.sleep(max(0.0, started + self.interval - time.monotonic()))

    def wait_for_calls(self, done: int, timeout: float) -> None:
        """Returns once `done` calls were made (or the thread ended, or `timeout` passed)."""
        deadline = time.monotonic() + timeout
        for _ in range(int(timeout / 0.02) + 1):
            if self.calls_done >= done or not self.is_alive() or time.monotonic() > deadline:
                return
            time.sleep(0.02)

    def finish(self, timeout: float) -> list[str]:
        """Joins the thread; asserts every call answered 200 with an action id; returns the action ids in order."""
        self.join(timeout)
        assert not self.is_alive(), f"{self.label}: calls did not finish within {timeout} s"
        assert not self.errors, f"{self.label}: calls failed: {self.errors[:5]}"
        bad = [result for result in self.results if result.status != 200 or not result.action_id]
        assert not bad, f"{self.label}: {len(bad)} of {len(self.results)} calls not 200: {bad[:3]}"
        assert len(self.results) == self.count
        return [result.action_id for result in self.results if result.action_id]


@dataclass
class Collector:
    """An `agentledger collector` on loopback that can be killed and restarted on the same ports and DSN."""

    binary: Path
    workdir: Path
    dsn: str
    token: str | None = None
    http_port: int = field(default_factory=free_port)
    ingest_port: int = field(default_factory=free_port)
    ingest_host: str = "127.0.0.1"
    http_host: str = "127.0.0.1"
    extra_env: dict[str, str] = field(default_factory=dict)
    wrapper: list[str] = field(default_factory=list)
    process: ManagedProcess | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://{self.http_host}:{self.http_port}"

    @property
    def ingest_address(self) -> str:
        return f"{self.ingest_host}:{self.ingest_port}"

    def env(self) -> dict[str, str]:
        env = clean_env(
            AGENTLEDGER_DSN=self.dsn,
            AGENTLEDGER_HTTP_HOST=self.http_host,
            AGENTLEDGER_HTTP_PORT=str(self.http_port),
            AGENTLEDGER_INGEST_HOST=self.ingest_host,
            AGENTLEDGER_INGEST_PORT=str(self.ingest_port),
        )
        if self.token is not None:
            env["AGENTLEDGER_INGEST_TOKEN"] = self.token
        env.update(self.extra_env)
        return env

    def start(self) -> Collector:
        self.starts += 1
        self.process = ManagedProcess(
            name=f"collector (start {self.starts})",
            args=[*self.wrapper, str(self.binary), "collector"],
            env=self.env(),
            cwd=self.workdir,
            log_path=self.workdir / f"collector.{self.starts}.log",
        )
        self.process.start()
        self.wait_until_healthy()
        return self

    def wait_until_healthy(self) -> None:
        assert self.process is not None
        self.process.wait_until_healthy(f"{self.url}/healthz")

    def kill(self) -> None:
        """SIGKILL: no drain, no goodbye."""
        kill_process(self.process)

    def get(self, path: str, timeout: float = 5.0) -> tuple[int, object]:
        """GET on the collector's API: (status, parsed JSON or text); (0, error) when it cannot be reached in time."""
        try:
            with http_client(timeout=timeout) as client:
                response = client.get(f"{self.url}{path}")
        except httpx.HTTPError as error:
            return 0, repr(error)
        try:
            return response.status_code, response.json()
        except ValueError:
            return response.status_code, response.text

    def metrics(self) -> dict[str, float]:
        status, body = self.get("/metrics")
        assert status == 200 and isinstance(body, str), f"/metrics answered {status}: {str(body)[:200]}"
        return parse_metrics(body)

    def wait_for_metric(self, name: str, at_least: float, timeout: float = 10.0) -> float:
        """Polls /metrics until `name` reaches `at_least`; returns its value."""
        deadline = time.monotonic() + timeout
        value = 0.0
        for _ in range(int(timeout / 0.1) + 1):
            value = self.metrics().get(name, 0.0)
            if value >= at_least or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert value >= at_least, f"{name} = {value} after {timeout} s, wanted >= {at_least}\n{self.log_tail()}"
        return value

    def log_tail(self, lines: int = 40) -> str:
        return self.process.log_tail(lines) if self.process else "(not started)"


@dataclass
class Sidecar:
    """An `agentledger sidecar` on loopback; restartable with the same port and spool directory."""

    binary: Path
    workdir: Path
    upstream_url: str
    collector_address: str
    source: str = "pod-a"
    token: str | None = None
    spool_dir: Path | None = None
    port: int = field(default_factory=free_port)
    host: str = "127.0.0.1"
    extra_env: dict[str, str] = field(default_factory=dict)
    wrapper: list[str] = field(default_factory=list)
    process: ManagedProcess | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def env(self) -> dict[str, str]:
        env = clean_env(
            AGENTLEDGER_HOST=self.host,
            AGENTLEDGER_PORT=str(self.port),
            AGENTLEDGER_UPSTREAM_URL=self.upstream_url,
            AGENTLEDGER_COLLECTOR=self.collector_address,
            AGENTLEDGER_SOURCE=self.source,
            AGENTLEDGER_SPOOL_DIR=str(self.spool_dir or self.workdir / f"spool-{self.source}"),
        )
        if self.token is not None:
            env["AGENTLEDGER_INGEST_TOKEN"] = self.token
        env.update(self.extra_env)
        return env

    def start(self, wait: bool = True) -> Sidecar:
        self.starts += 1
        self.process = ManagedProcess(
            name=f"sidecar {self.source} (start {self.starts})",
            args=[*self.wrapper, str(self.binary), "sidecar"],
            env=self.env(),
            cwd=self.workdir,
            log_path=self.workdir / f"sidecar-{self.source}.{self.starts}.log",
        )
        self.process.start()
        if wait:
            # The sidecar has no API of its own: an uncaptured path forwarded to the upstream proves it serves.
            self.process.wait_until_healthy(f"{self.url}/v1/models")
        return self

    def kill(self) -> None:
        kill_process(self.process)

    def call(self, session_id: str, text: str) -> CallResult:
        with http_client(timeout=10.0) as client:
            return chat_call(client, self.url, session_id, text)

    def calls(self, session_id: str, count: int, label: str) -> list[str]:
        """`count` calls in a row, each asserted 200; their action ids in order."""
        ids = []
        with http_client(timeout=10.0) as client:
            for index in range(count):
                result = chat_call(client, self.url, session_id, f"{label} {index}")
                assert result.status == 200 and result.action_id, f"{self.source} call {index}: {result}"
                ids.append(result.action_id)
        return ids

    def log_tail(self, lines: int = 40) -> str:
        return self.process.log_tail(lines) if self.process else "(not started)"


def kill_process(managed: ManagedProcess | None) -> None:
    """SIGKILL a managed process (if still running) and reap it."""
    if managed is None or managed.process is None:
        return
    if managed.process.poll() is None:
        managed.process.send_signal(signal.SIGKILL)
        managed.process.wait(timeout=10)
    managed.stop()


class Fleet:
    """Starts collectors and sidecars for one test and SIGKILLs whatever is left at the end."""

    def __init__(self, binary: Path, upstream_url: str, workdir: Path) -> None:
        self.binary = binary
        self.upstream_url = upstream_url
        self.workdir = workdir
        self.members: list[Collector | Sidecar] = []
        self.stores = 0
        self.databases: list[str] = []  # made by `fresh_dsn`, dropped at the end

    def fresh_dsn(self) -> str:
        """A store of its own: a fresh Postgres database when the run has a cluster, else a fresh SQLite file. Each
        collector started without a DSN gets one, so collectors of one test (and of earlier tests) never become
        replicas of one store by accident: replicas elect one enforcer and judge by its limits, and the lease of an
        enforcer SIGKILLed at a test's end would hold the next test's collectors back for its lifetime."""
        dsn = store_dsn(self.workdir)
        if dsn.startswith("postgres"):
            fresh = fresh_postgres_database("fleet")
            self.databases.append(fresh)
            return fresh
        self.stores += 1
        return f"sqlite:///{self.workdir / f'collector-{self.stores}.db'}"

    def collector(
        self, dsn: str | None = None, token: str | None = None, start: bool = True, **extra_env: str
    ) -> Collector:
        collector = Collector(
            self.binary, self.workdir, dsn or self.fresh_dsn(), token=token, extra_env=extra_env
        )
        self.members.append(collector)
        return collector.start() if start else collector

    def sidecar(
        self,
        collector_address: str,
        source: str = "pod-a",
        token: str | None = None,
        spool_dir: Path | None = None,
        **extra_env: str,
    ) -> Sidecar:
        sidecar = Sidecar(
            self.binary, self.workdir, self.upstream_url, collector_address, source=source, token=token,
            spool_dir=spool_dir, extra_env=extra_env,
        )
        self.members.append(sidecar)
        return sidecar.start()

    def logs(self) -> str:
        started = [member for member in self.members if member.process]
        return "\n".join(f"--- {member.process.name} ---\n{member.log_tail(15)}" for member in started)

    def close(self) -> None:
        for member in reversed(self.members):
            kill_process(member.process)
        cluster = os.environ.get(POSTGRES_DSN_VARIABLE)
        for database in self.databases:
            name = database.rsplit("/", 1)[1]
            subprocess.run(["psql", cluster, "-X", "-q", "-c", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"],
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=30)


def unused_address() -> str:
    """A loopback host:port where nothing listens (a collector that is down)."""
    return f"127.0.0.1:{free_port()}"


def wait_stored_exactly_once(
    get: Callable[[str], tuple[int, object]],
    session_id: str,
    action_ids: list[str],
    timeout: float = 30.0,
    diagnostics: Callable[[], str] = lambda: "",
) -> list[dict]:
    """Waits until the session holds exactly `action_ids`, each once, and `/explain` finds each of them.

    `get` performs a GET on the collector API and returns (status, JSON). Records arriving after the
    expected set is complete (duplicates) are caught by a second look a moment later.
    """
    expected = set(action_ids)
    assert len(expected) == len(action_ids), "the sidecar handed out the same action id twice"
    deadline = time.monotonic() + timeout
    last = "no attempt"
    records: list[dict] = []
    for _ in range(int(timeout / 0.2) + 1):
        status, body = get(f"/session/{session_id}")
        if status == 200 and isinstance(body, list):
            records = body
            stored = [record.get("action_id") for record in records]
            if expected <= set(stored):
                break
            last = f"{len(set(stored) & expected)} of {len(expected)} stored, {len(stored)} records"
        else:
            last = f"status {status}: {str(body)[:200]}"
        if time.monotonic() > deadline:
            raise AssertionError(
                f"session {session_id}: not every call stored within {timeout} s ({last})\n{diagnostics()}"
            )
        time.sleep(0.2)
    else:
        raise AssertionError(f"session {session_id}: gave up polling ({last})\n{diagnostics()}")

    time.sleep(0.5)
    status, body = get(f"/session/{session_id}")
    assert status == 200 and isinstance(body, list), f"session {session_id}: {status} {str(body)[:200]}"
    stored = [record.get("action_id") for record in body]
    duplicates = sorted({action_id for action_id in stored if stored.count(action_id) > 1})
    assert not duplicates, f"stored more than once: {duplicates[:5]} ({len(stored)} records for {len(expected)} calls)"
    assert sorted(stored) == sorted(action_ids), f"unexpected records: {sorted(set(stored) - expected)[:5]}"
    for action_id in action_ids:
        status, call = get(f"/explain/{action_id}")
        assert status == 200 and isinstance(call, dict), f"/explain/{action_id}: {status} {str(call)[:200]}"
        assert call.get("action_id") == action_id
    sessions_status, sessions = get("/api/sessions?limit=1000")
    if sessions_status == 200 and isinstance(sessions, list):
        ours = [row for row in sessions if row.get("session_id") == session_id]
        assert len(ours) == 1 and ours[0].get("call_count") == len(action_ids), f"/api/sessions says {ours}"
    return body


def wait_stored_once(
    get: Callable[[str], tuple[int, object]],
    session_id: str,
    action_ids: set[str],
    timeout: float = 30.0,
    diagnostics: Callable[[], str] = lambda: "",
) -> list[dict]:
    """Waits until the session holds every one of `action_ids` (it may hold more: refusals recorded as blocked calls);
    asserts none is stored twice, a moment later too. Returns the session's records."""
    deadline = time.monotonic() + timeout
    records: list[dict] = []
    for _ in range(int(timeout / 0.2) + 1):
        status, body = get(f"/session/{session_id}")
        records = body if status == 200 and isinstance(body, list) else []
        if action_ids <= {record["action_id"] for record in records} or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    missing = action_ids - {record["action_id"] for record in records}
    assert not missing, f"{session_id}: {len(missing)} calls never stored: {sorted(missing)[:5]}\n{diagnostics()}"
    time.sleep(0.5)
    status, body = get(f"/session/{session_id}")
    assert status == 200 and isinstance(body, list), f"session {session_id}: {status} {str(body)[:200]}"
    stored = [record["action_id"] for record in body]
    assert len(stored) == len(set(stored)), f"{session_id}: a call was stored twice"
    return body


@dataclass
class PostgresCluster:
    """The throwaway cluster scripts/test starts (it runs as the `postgres` user), stopped and started on demand."""

    dsn: str
    pg_ctl: str
    pgdata: str
    log_path: Path

    @classmethod
    def from_environment(cls, log_path: Path) -> PostgresCluster | str:
        """The cluster, or the reason there is none to use."""
        dsn = os.environ.get(POSTGRES_DSN_VARIABLE)
        pg_ctl = os.environ.get("AGENTLEDGER_TEST_PG_CTL")
        pgdata = os.environ.get("AGENTLEDGER_TEST_PGDATA")
        if not dsn:
            return f"{POSTGRES_DSN_VARIABLE} is not set (scripts/test starts a throwaway Postgres and sets it)"
        if not pg_ctl or not pgdata:
            return "AGENTLEDGER_TEST_PG_CTL and AGENTLEDGER_TEST_PGDATA are needed to stop and start Postgres"
        if os.geteuid() != 0 or shutil.which("runuser") is None:
            return "stopping Postgres needs root and runuser (the cluster runs as the postgres user)"
        return cls(dsn, pg_ctl, pgdata, log_path)

    def _pg_ctl(self, *args: str) -> None:
        # Output goes to a file: a pipe would be inherited by the server and never reach EOF.
        with open(self.log_path, "ab") as log:
            result = subprocess.run(
                ["runuser", "-u", "postgres", "--", self.pg_ctl, "-D", self.pgdata, *args],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, timeout=60,
            )
        assert result.returncode == 0, f"pg_ctl {' '.join(args)} exited {result.returncode}: see {self.log_path}"

    def stop(self) -> None:
        self._pg_ctl("-m", "fast", "-w", "stop")

    def start(self) -> None:
        self._pg_ctl("-w", "-t", "60", "start")

    def is_running(self) -> bool:
        result = subprocess.run(
            ["runuser", "-u", "postgres", "--", self.pg_ctl, "-D", self.pgdata, "status"],
            stdin=subprocess.DEVNULL, capture_output=True, timeout=30,
        )
        return result.returncode == 0


def agent_main(argv: list[str]) -> int:
    """`python distributed.py agent BASE_URL SESSION COUNT INTERVAL`: calls from inside a network namespace,
    one JSON line per call ({"index", "status", "action_id", "sent"} or {"index", "error"}) on stdout."""
    _, base_url, session_id, count, interval = argv
    with http_client(timeout=10.0) as client:
        for index in range(int(count)):
            started = time.monotonic()
            started_at = time.time()  # the wall clock: comparable with the test's, across processes
            try:
                result = chat_call(client, base_url, session_id, f"netns call {index}")
                line = {"index": index, "status": result.status, "action_id": result.action_id, "sent": started_at}
            except httpx.HTTPError as error:
                line = {"index": index, "error": repr(error)}
            print(json.dumps(line), flush=True)
            time.sleep(max(0.0, started + float(interval) - time.monotonic()))
    return 0


def session_records(collector: "Collector", session_id: str, expected: int, timeout: float = 15.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    records: list[dict] = []
    for _ in range(int(timeout / 0.1) + 1):
        status, body = collector.get(f"/session/{session_id}")
        records = body if status == 200 and isinstance(body, list) else []
        if len(records) >= expected or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    return records


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "agent":
        sys.exit(agent_main(sys.argv[1:]))
    sys.exit("usage: distributed.py agent BASE_URL SESSION COUNT INTERVAL")

