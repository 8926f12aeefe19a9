"""The fleet of k8s/ in network namespaces (issue 17): a Postgres "node", two collector "pods" on it, and three agent
"pods", each an agent beside its sidecar and its own mock upstream, on one bridged subnet. The sidecars reach the
collectors through one name, as through a Kubernetes Service: `agentledger-ingest.fleet` resolves to both collectors'
addresses (each pod's /etc/hosts, set with `ip netns exec`'s /etc/netns/<name>/hosts), the first one listed tried
first. Mid-run one agent pod is restarted (its agent stops, its sidecar is SIGKILLed and started again on the same
spool volume) and one collector pod is replaced (SIGKILLed under load, a new one started on the same address): every
call an agent saw answered is stored exactly once, read alike through either collector. One agent pod lists both
collectors in AGENTLEDGER_COLLECTOR instead. Needs root, iproute2, curl
and the Postgres server binaries; traffic stays inside the namespaces the test creates."""

from __future__ import annotations

import contextlib
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import pytest

import distributed
from distributed import Sidecar, kill_process, parse_metrics, wait_stored_exactly_once
from support import ManagedProcess, new_session_id
from test_netns import NamespacedCollector, ip, netns_get, wait_healthy_in

pytestmark = pytest.mark.timeout(420)

SUBNET = "10.233.0"
POSTGRES = f"{SUBNET}.10"
COLLECTORS = {"a": f"{SUBNET}.11", "b": f"{SUBNET}.12"}
AGENTS = {1: f"{SUBNET}.21", 2: f"{SUBNET}.22", 3: f"{SUBNET}.23"}
INGEST_NAME = "agentledger-ingest.fleet"  # the Service's name in the pods' resolver
INGEST_PORT = 4600  # every collector pod listens on the same port, as behind a Service
HTTP_PORT = 8080
UPSTREAM_PORT = 9000


@dataclass
class Network:
    """Namespaces on one bridge: node name to its namespace."""

    tag: str
    namespaces: dict[str, str] = field(default_factory=dict)

    def exec(self, node: str) -> list[str]:
        return ["ip", "netns", "exec", self.namespaces[node]]


def postgres_binaries() -> Path | None:
    """The directory of initdb and pg_ctl: next to scripts/test's pg_ctl, else Debian's newest."""
    configured = os.environ.get("AGENTLEDGER_TEST_PG_CTL")
    candidates = [Path(configured).parent] if configured else []
    candidates += [Path(path) for path in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]
    return next((path for path in candidates if (path / "initdb").exists() and (path / "pg_ctl").exists()), None)


@contextlib.contextmanager
def bridged_namespaces(nodes: dict[str, str], prefix: str = "al-fleet") -> Iterator[Network]:
    """A bridge in its own namespace and one namespace per node (name to address) wired to it; all deleted at the
    end. Skips where namespaces cannot be made (not root, no iproute2)."""
    if os.geteuid() != 0:
        pytest.skip("network namespaces need root")
    for tool in ("ip", "curl", "runuser"):
        if shutil.which(tool) is None:
            pytest.skip(f"`{tool}` is not installed")
    tag = uuid.uuid4().hex[:5]
    net = Network(tag)
    switch = f"{prefix}-sw-{tag}"
    created: list[str] = []
    try:
        result = ip("netns", "add", switch, check=False)
        if result.returncode != 0:
            pytest.skip(f"cannot create network namespaces here: {result.stderr.decode(errors='replace').strip()}")
        created.append(switch)
        ip("-n", switch, "link", "add", "br0", "type", "bridge")
        ip("-n", switch, "link", "set", "br0", "up")
        for index, (node, address) in enumerate(nodes.items()):
            namespace = f"{prefix}-{node}-{tag}"
            ip("netns", "add", namespace)
            created.append(namespace)
            port = f"alf{tag}{index}"
            ip("-n", namespace, "link", "add", "eth0", "type", "veth", "peer", "name", port, "netns", switch)
            ip("-n", switch, "link", "set", port, "master", "br0")
            ip("-n", switch, "link", "set", port, "up")
            ip("-n", namespace, "addr", "add", f"{address}/24", "dev", "eth0")
            ip("-n", namespace, "link", "set", "lo", "up")
            ip("-n", namespace, "link", "set", "eth0", "up")
            net.namespaces[node] = namespace
        yield net
    finally:
        for namespace in created:
            ip("netns", "del", namespace, check=False)
            shutil.rmtree(f"/etc/netns/{namespace}", ignore_errors=True)


@pytest.fixture
def network() -> Iterator[Network]:
    """This test's nodes: Postgres, two collectors, three agent pods."""
    nodes = {"postgres": POSTGRES, **{f"collector-{k}": v for k, v in COLLECTORS.items()}}
    nodes |= {f"agent-{k}": v for k, v in AGENTS.items()}
    with bridged_namespaces(nodes) as net:
        yield net


def resolve_ingest_name(net: Network, node: str, order: list[str], collectors: dict[str, str] = COLLECTORS) -> None:
    """The pod's /etc/hosts: the ingest name as every collector's address, in `order` (a Service's endpoints)."""
    directory = Path("/etc/netns") / net.namespaces[node]
    directory.mkdir(parents=True, exist_ok=True)
    lines = ["127.0.0.1 localhost", *(f"{collectors[name]} {INGEST_NAME}" for name in order)]
    (directory / "hosts").write_text("\n".join(lines) + "\n")


@contextlib.contextmanager
def postgres_node(net: Network, log_path: Path) -> Iterator[str]:
    """A fresh Postgres cluster serving the subnet from the postgres namespace; yields its DSN."""
    binaries = postgres_binaries()
    if binaries is None:
        pytest.skip("the Postgres server binaries (initdb, pg_ctl) are not installed")
    # The cluster runs as the postgres user, who must reach its directory: not under pytest's 0700 tmp_path.
    data_root = Path(tempfile.mkdtemp(prefix="al-fleet-pg-"))
    data = data_root / "data"
    shutil.chown(data_root, "postgres", "postgres")
    as_postgres = ["runuser", "-u", "postgres", "--"]
    with open(log_path, "ab") as log:

        def run(*args: str) -> None:
            subprocess.run(
                [*net.exec("postgres"), *as_postgres, *args], stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, timeout=120, check=True,
            )

        run(str(binaries / "initdb"), "-D", str(data), "--auth=trust", "--no-sync", "-U", "postgres")
        with open(data / "pg_hba.conf", "a") as hba:
            hba.write(f"host all all {SUBNET}.0/24 trust\n")
        options = f"-c listen_addresses={POSTGRES} -c port=5432 -c unix_socket_directories={data_root} -c fsync=off"
        try:
            run(str(binaries / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(data_root / "server.log"),
                "-w", "-t", "60", "start")
            run(str(binaries / "createdb"), "-h", POSTGRES, "-p", "5432", "-U", "postgres", "agentledger")
            yield f"postgres://postgres@{POSTGRES}:5432/agentledger"
        finally:
            subprocess.run(
                [*net.exec("postgres"), *as_postgres, str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate",
                 "-w", "stop"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, timeout=60,
            )
            shutil.rmtree(data_root, ignore_errors=True)


def start_collector_pod(net: Network, binary: Path, workdir: Path, dsn: str, name: str, address: str,
                        collectors: dict[str, NamespacedCollector], processes: list[ManagedProcess]) -> NamespacedCollector:
    """Starts (or starts again) collector pod `name` on `address`, the same ports as every pod; records it in
    `collectors` and its process in `processes`."""
    collector = NamespacedCollector(
        binary, workdir, dsn, http_port=HTTP_PORT, ingest_port=INGEST_PORT, ingest_host=address,
        http_host="0.0.0.0", wrapper=net.exec(f"collector-{name}"),
    )
    collector.starts = collectors[name].starts if name in collectors else 0
    collectors[name] = collector
    # Distinct log files per pod and start: Collector names them collector.<start>.log in its workdir.
    collector.workdir = workdir / f"collector-{name}"
    collector.workdir.mkdir(exist_ok=True)
    collector.start()
    assert collector.process is not None
    processes.append(collector.process)
    return collector


class AgentProcess:
    """`distributed.py agent` inside a pod: `count` calls through its sidecar, one JSON line per call."""

    def __init__(self, net: Network, node: str, sidecar_url: str, session_id: str, count: int, interval: float,
                 log_path: Path) -> None:
        self.lines: list[dict] = []
        self.log = open(log_path, "ab")
        self.process = subprocess.Popen(
            [*net.exec(node), sys.executable, distributed.__file__, "agent", sidecar_url, session_id, str(count),
             str(interval)],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self.log,
        )
        assert self.process.stdout is not None
        stdout = self.process.stdout
        self.reader = threading.Thread(
            target=lambda: self.lines.extend(json.loads(line) for line in stdout if line.strip()), daemon=True
        )
        self.reader.start()

    def wait_for(self, calls: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for _ in range(int(timeout / 0.05) + 1):
            if len(self.lines) >= calls or self.process.poll() is not None or time.monotonic() > deadline:
                return
            time.sleep(0.05)

    def finish(self, count: int, timeout: float) -> list[str]:
        """Waits for the agent to end; asserts all `count` calls answered 200; their action ids in order."""
        try:
            self.process.wait(timeout=timeout)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait(timeout=10)
            self.reader.join(timeout=10)
            self.log.close()
        assert self.process.returncode == 0
        assert len(self.lines) == count, f"{len(self.lines)} of {count} calls reported: {self.lines[-3:]}"
        failed = [line for line in self.lines if line.get("status") != 200 or not line.get("action_id")]
        assert not failed, f"calls failed: {failed[:3]}"
        return [line["action_id"] for line in self.lines]

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.reader.join(timeout=10)
        self.log.close()


def sidecar_metrics(net: Network, node: str, sidecar: Sidecar) -> dict[str, float]:
    status, body = netns_get(net.namespaces[node], f"{sidecar.url}/agentledger/metrics")
    assert status == 200 and isinstance(body, str), f"{node} sidecar metrics: {status} {str(body)[:200]}"
    return parse_metrics(body)


def test_a_fleet_in_namespaces_stores_every_call_once_through_pod_restarts(
    network: Network, binary: Path, tmp_path: Path
) -> None:
    net = network
    processes: list[ManagedProcess] = []
    agents: list[AgentProcess] = []
    collectors: dict[str, NamespacedCollector] = {}
    sidecars: dict[int, Sidecar] = {}
    with contextlib.ExitStack() as stack:
        dsn = stack.enter_context(postgres_node(net, tmp_path / "postgres.log"))

        def start_collector(name: str) -> NamespacedCollector:
            return start_collector_pod(net, binary, tmp_path, dsn, name, COLLECTORS[name], collectors, processes)

        def start_sidecar(index: int) -> Sidecar:
            node = f"agent-{index}"
            # Agent pod 3 names both collectors in AGENTLEDGER_COLLECTOR instead of the Service name.
            collector_address = (
                ",".join(f"{COLLECTORS[name]}:{INGEST_PORT}" for name in ("a", "b")) if index == 3
                else f"{INGEST_NAME}:{INGEST_PORT}"
            )
            sidecar = sidecars.get(index) or Sidecar(
                binary, tmp_path, f"http://127.0.0.1:{UPSTREAM_PORT}", collector_address,
                source=f"agent-pod-{index}", spool_dir=tmp_path / f"spool-agent-{index}", wrapper=net.exec(node),
            )
            sidecars[index] = sidecar
            sidecar.start(wait=False)
            assert sidecar.process is not None
            processes.append(sidecar.process)
            wait_healthy_in(net.namespaces[node], f"{sidecar.url}/agentledger/readyz", sidecar.process)
            return sidecar

        def logs() -> str:
            return "\n".join(f"--- {p.name} ---\n{p.log_tail(12)}" for p in processes if p.process is not None)

        try:
            # Two collector pods, both migrating the same empty database at once (the migration lock keeps that safe).
            starters = [threading.Thread(target=start_collector, args=(name,)) for name in COLLECTORS]
            for starter in starters:
                starter.start()
            for starter in starters:
                starter.join(timeout=120)
            assert set(collectors) == set(COLLECTORS) and all(c.process for c in collectors.values()), logs()

            # Agent pods: agent 2's resolver lists collector b first, so both collectors carry links.
            for index in AGENTS:
                node = f"agent-{index}"
                resolve_ingest_name(net, node, ["b", "a"] if index == 2 else ["a", "b"])
                upstream = ManagedProcess(
                    name=f"mock-upstream {node}",
                    args=[*net.exec(node), str(binary), "mock-upstream", "--host", "127.0.0.1", "--port",
                          str(UPSTREAM_PORT)],
                    env=distributed.clean_env(), cwd=tmp_path, log_path=tmp_path / f"mock-{node}.log",
                )
                upstream.start()
                processes.append(upstream)
                wait_healthy_in(net.namespaces[node], f"http://127.0.0.1:{UPSTREAM_PORT}/v1/models", upstream)
                start_sidecar(index)
            for index, sidecar in sidecars.items():
                deadline = time.monotonic() + 15
                while sidecar_metrics(net, f"agent-{index}", sidecar).get("agentledger_sidecar_collector_link_up") != 1:
                    assert time.monotonic() < deadline, f"agent-{index}'s sidecar never linked\n{logs()}"
                    time.sleep(0.1)

            sessions = {index: new_session_id(f"fleet-{index}") for index in AGENTS}
            counts = {1: 80, 2: 80, 3: 30}
            runs = {
                index: AgentProcess(net, f"agent-{index}", sidecars[index].url, sessions[index], counts[index], 0.05,
                                    tmp_path / f"agent-{index}.log")
                for index in AGENTS
            }
            agents.extend(runs.values())
            for run in runs.values():
                run.wait_for(10, timeout=30)

            # Collector pod a is replaced under load: killed without a goodbye, a new one started on its address.
            collectors["a"].kill()
            time.sleep(1.5)
            start_collector("a")

            # Agent pod 3 restarts: its agent finishes, its sidecar is SIGKILLed at once (records may sit unshipped
            # in its spool), and both start again on the same spool volume, in the same session.
            answered = {index: run.finish(counts[index], timeout=120) for index, run in runs.items() if index == 3}
            sidecars[3].kill()
            start_sidecar(3)
            second = AgentProcess(net, "agent-3", sidecars[3].url, sessions[3], 30, 0.05, tmp_path / "agent-3b.log")
            agents.append(second)
            for index in (1, 2):
                answered[index] = runs[index].finish(counts[index], timeout=120)
            answered[3] = answered[3] + second.finish(30, timeout=120)

            # Every answered call stored once, read through either collector: one store behind both.
            for index, ids in answered.items():
                for name, collector in collectors.items():
                    records = wait_stored_exactly_once(collector.get, sessions[index], ids, timeout=60, diagnostics=logs)
                    assert {record["source"] for record in records} == {f"agent-pod-{index}"}, name
            for index, sidecar in sidecars.items():
                metrics = sidecar_metrics(net, f"agent-{index}", sidecar)
                assert metrics.get("agentledger_sidecar_calls_dropped_total", 0) == 0, (index, metrics)
                assert metrics.get("agentledger_sidecar_calls_dropped_unconfirmed_total", 0) == 0, (index, metrics)
            # The replaced pod's sidecars moved over: agent 1 was linked to collector a when it died (agent 3's
            # sidecar was too, but its counters started again with its restart).
            reconnects = sidecar_metrics(net, "agent-1", sidecars[1]).get("agentledger_sidecar_collector_reconnects_total")
            assert reconnects and reconnects >= 1, logs()
        finally:
            for agent in agents:
                agent.kill()
            for process in reversed(processes):
                kill_process(process)
