"""Failover of the elected enforcer in network namespaces (issue 18, docs/operations.md "Failover"): a Postgres
"node", three collector "pods" on it, and four agent "pods", each an agent beside its sidecar (AGENTLEDGER_ON_COLLECTOR_DOWN
=closed) and its own mock upstream, on one bridged subnet, the sidecars reaching the collectors through one name as
through a Kubernetes Service. Under load and a fleet-wide daily budget:

1. the enforcer pod's collector is SIGKILLed;
2. the network of the next enforcer's pod is cut (its veth down) past its lease, then restored;
3. the first pod's collector is started again on its address.

Each time one enforcer is back within 10 s (measured and printed), the cut-off one steps down, every call an agent
saw answered 200 is stored exactly once, and the budget's overshoot stays within the documented bound. Needs root,
iproute2, curl and the Postgres server binaries; traffic stays inside the namespaces the test creates."""

from __future__ import annotations

import contextlib
import json
import subprocess
import threading
import time
from pathlib import Path

import pytest

import distributed
from distributed import Sidecar, kill_process, parse_metrics, wait_stored_exactly_once, wait_stored_once
from support import ManagedProcess, new_session_id
from test_fleet import (
    HTTP_PORT, INGEST_NAME, INGEST_PORT, POSTGRES, SUBNET, UPSTREAM_PORT, AgentProcess, Network, bridged_namespaces,
    postgres_node, resolve_ingest_name, sidecar_metrics, start_collector_pod,
)
from test_netns import NamespacedCollector, ip, wait_healthy_in

pytestmark = pytest.mark.timeout(420)

COLLECTORS = {"a": f"{SUBNET}.11", "b": f"{SUBNET}.12", "c": f"{SUBNET}.13"}
AGENTS = {1: f"{SUBNET}.21", 2: f"{SUBNET}.22", 3: f"{SUBNET}.23", 4: f"{SUBNET}.24"}
RENEW_SECONDS = 1.0  # a fifth of the default lease
CALLS = 1200  # per agent, at most: the budget stops them well before
INTERVAL = 0.05


@pytest.fixture
def network() -> contextlib.AbstractContextManager[Network]:
    nodes = {"postgres": POSTGRES, **{f"collector-{k}": v for k, v in COLLECTORS.items()}}
    nodes |= {f"agent-{k}": v for k, v in AGENTS.items()}
    with bridged_namespaces(nodes, prefix="al-fo") as net:
        yield net


class Agent(AgentProcess):
    """An agent whose calls may be refused (429 by the budget, 503 while no verdict can be had)."""

    def stop(self, timeout: float, wait: bool = False) -> list[dict]:
        """Stops the agent (if still calling; with `wait`, lets it end on its own within `timeout`) and returns every
        line it reported."""
        if self.process.poll() is None and not wait:
            self.process.terminate()
        try:
            self.process.wait(timeout=timeout)
        finally:
            self.kill()
        return self.lines


def enforcer_metric(collector: NamespacedCollector) -> float | None:
    status, body = collector.get("/metrics", timeout=2.0)
    if status != 200 or not isinstance(body, str):
        return None
    return parse_metrics(body).get("agentledger_enforcer")


def wait_for_one_enforcer(collectors: dict[str, NamespacedCollector], names: list[str], timeout: float,
                          logs) -> tuple[str, float]:
    started = time.monotonic()
    found: list[str] = []
    for _ in range(int(timeout / 0.1) + 1):
        found = [name for name in names if enforcer_metric(collectors[name]) == 1]
        if len(found) == 1:
            return found[0], time.monotonic() - started
        if time.monotonic() - started > timeout:
            break
        time.sleep(0.1)
    raise AssertionError(f"enforcers among {names}: {found} after {timeout} s\n{logs()}")


def test_the_enforcer_fails_over_under_load_and_the_fleet_budget_holds(
    network: Network, binary: Path, tmp_path: Path
) -> None:
    net = network
    processes: list[ManagedProcess] = []
    agents: list[Agent] = []
    collectors: dict[str, NamespacedCollector] = {}
    sidecars: dict[int, Sidecar] = {}
    with contextlib.ExitStack() as stack:
        dsn = stack.enter_context(postgres_node(net, tmp_path / "postgres.log"))

        def start_collector(name: str) -> NamespacedCollector:
            return start_collector_pod(net, binary, tmp_path, dsn, name, COLLECTORS[name], collectors, processes)

        def logs() -> str:
            return "\n".join(f"--- {p.name} ---\n{p.log_tail(15)}" for p in processes if p.process is not None)

        try:
            starters = [threading.Thread(target=start_collector, args=(name,)) for name in COLLECTORS]
            for starter in starters:
                starter.start()
            for starter in starters:
                starter.join(timeout=120)
            assert set(collectors) == set(COLLECTORS), logs()
            first, _ = wait_for_one_enforcer(collectors, list(COLLECTORS), 15, logs)

            # Four agent pods, their Service endpoints rotated so every collector carries links.
            names = list(COLLECTORS)
            for index in AGENTS:
                node = f"agent-{index}"
                shift = index % len(names)
                resolve_ingest_name(net, node, names[shift:] + names[:shift], collectors=COLLECTORS)
                upstream = ManagedProcess(
                    name=f"mock-upstream {node}",
                    args=[*net.exec(node), str(binary), "mock-upstream", "--host", "127.0.0.1", "--port",
                          str(UPSTREAM_PORT)],
                    env=distributed.clean_env(), cwd=tmp_path, log_path=tmp_path / f"mock-{node}.log",
                )
                upstream.start()
                processes.append(upstream)
                wait_healthy_in(net.namespaces[node], f"http://127.0.0.1:{UPSTREAM_PORT}/v1/models", upstream)
                sidecar = Sidecar(
                    binary, tmp_path, f"http://127.0.0.1:{UPSTREAM_PORT}", f"{INGEST_NAME}:{INGEST_PORT}",
                    source=f"agent-pod-{index}", spool_dir=tmp_path / f"spool-agent-{index}", wrapper=net.exec(node),
                    extra_env={"AGENTLEDGER_ON_COLLECTOR_DOWN": "closed"},
                )
                sidecars[index] = sidecar
                sidecar.start(wait=False)
                assert sidecar.process is not None
                processes.append(sidecar.process)
                wait_healthy_in(net.namespaces[node], f"{sidecar.url}/agentledger/readyz", sidecar.process)

            # One call prices the fleet's calls; the daily fleet budget is then set to 200 more such calls.
            probe_session = new_session_id("failover-probe")
            probe = Agent(net, "agent-1", sidecars[1].url, probe_session, 1, 0, tmp_path / "probe.log")
            probe_lines = probe.stop(timeout=30, wait=True)
            assert [line.get("status") for line in probe_lines] == [200], probe_lines
            (record,) = wait_stored_exactly_once(collectors["a"].get, probe_session, [probe_lines[0]["action_id"]],
                                                 diagnostics=logs)
            cost = record["cost_usd"]
            assert cost > 0
            budget = 201 * cost
            status, body = netns_put(net, "collector-b", f"http://127.0.0.1:{HTTP_PORT}/api/budgets/fleet/%2A",
                                     {"limit_usd": budget})
            assert status == 200, body
            time.sleep(1.5)  # the change reaches every collector, and every sidecar is told admission is on

            sessions = {index: new_session_id(f"failover-{index}") for index in AGENTS}
            runs = {index: Agent(net, f"agent-{index}", sidecars[index].url, sessions[index], CALLS, INTERVAL,
                                 tmp_path / f"agent-{index}.log") for index in AGENTS}
            agents.extend(runs.values())

            def admitted() -> int:
                return sum(1 for run in runs.values() for line in list(run.lines) if line.get("status") == 200)

            deadline = time.monotonic() + 60
            while admitted() < 80 and time.monotonic() < deadline:
                time.sleep(0.05)

            # 1. SIGKILL the enforcer.
            killed_at = time.time()
            collectors[first].kill()
            rest = [name for name in COLLECTORS if name != first]
            second, took_kill = wait_for_one_enforcer(collectors, rest, 20, logs)
            print(f"SIGKILL of collector {first}: collector {second} enforces after {took_kill:.2f} s")
            assert took_kill <= 10.0

            # 2. Cut the new enforcer's pod off the network past its lease, then restore it.
            deadline = time.monotonic() + 60
            while admitted() < 130 and time.monotonic() < deadline:
                time.sleep(0.05)
            cut_at = time.time()
            ip("-n", net.namespaces[f"collector-{second}"], "link", "set", "eth0", "down")
            third_candidates = [name for name in rest if name != second]
            try:
                third, took_cut = wait_for_one_enforcer(collectors, third_candidates, 20, logs)
                print(f"network cut of collector {second}: collector {third} enforces after {took_cut:.2f} s")
                assert took_cut <= 10.0
                time.sleep(2.0)
            finally:
                ip("-n", net.namespaces[f"collector-{second}"], "link", "set", "eth0", "up")
            # The cut-off collector stopped judging on its own; back on the network it follows.
            time.sleep(3 * RENEW_SECONDS)
            assert enforcer_metric(collectors[second]) == 0, logs()

            # 3. The killed collector comes back on its address, as a follower.
            start_collector(first)
            time.sleep(3 * RENEW_SECONDS)
            assert [name for name in COLLECTORS if enforcer_metric(collectors[name]) == 1] == [third], logs()

            # Run on until the budget refuses every call.
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                recent = [line for run in runs.values() for line in list(run.lines)[-5:]]
                if len(recent) == 5 * len(runs) and all(line.get("status") == 429 for line in recent):
                    break
                time.sleep(0.2)
            lines = {index: run.stop(timeout=30) for index, run in runs.items()}

            statuses = sorted({line.get("status") for run in lines.values() for line in run})
            assert set(statuses) <= {200, 429, 503}, statuses
            spent = cost  # the probe
            largest = cost
            for index, run in lines.items():
                answered = {line["action_id"] for line in run if line.get("status") == 200}
                refused = {line["action_id"] for line in run if line.get("status") == 429 and line.get("action_id")}
                records = wait_stored_once(collectors[third].get, sessions[index], answered | refused, timeout=60,
                                           diagnostics=logs)
                calls = [record for record in records if not record.get("blocked")]
                assert {record["action_id"] for record in calls} == answered, f"agent {index}"
                spent += sum(record["cost_usd"] or 0 for record in calls)
                largest = max([largest, *(record["cost_usd"] or 0 for record in calls)])
            # The bound: calls the two lost enforcers admitted after their last renewals, plus one in flight per agent.
            unknown = sum(1 for run in lines.values() for line in run if line.get("status") == 200 and (
                killed_at - RENEW_SECONDS - 0.5 <= line["sent"] <= killed_at
                or cut_at - RENEW_SECONDS - 0.5 <= line["sent"] <= cut_at))
            bound = (unknown + len(AGENTS)) * largest
            overshoot = max(0.0, spent - budget)
            refused = sum(1 for run in lines.values() for line in run if line.get("status") == 503)
            print(f"budget {budget:.8f} spent {spent:.8f} overshoot {overshoot:.8f} bound {bound:.8f}; "
                  f"{unknown} calls admitted in the renewal before each loss, {refused} refused with 503 meanwhile")
            assert any(line.get("status") == 429 for run in lines.values() for line in run), "the budget never refused"
            assert overshoot <= bound + 1e-12
            for index, sidecar in sidecars.items():
                metrics = sidecar_metrics(net, f"agent-{index}", sidecar)
                assert metrics.get("agentledger_sidecar_calls_dropped_total", 0) == 0, (index, metrics)
        finally:
            for agent in agents:
                agent.kill()
            for process in reversed(processes):
                kill_process(process)


def netns_put(net: Network, node: str, url: str, body: dict) -> tuple[int, str]:
    """PUT JSON from inside a namespace with curl: (status, body)."""
    result = subprocess.run(
        [*net.exec(node), "curl", "-sS", "-m", "10", "-X", "PUT", "-H", "content-type: application/json",
         "--data", json.dumps(body), "-w", "\n%{http_code}", url],
        stdin=subprocess.DEVNULL, capture_output=True, timeout=20,
    )
    text, _, code = result.stdout.decode(errors="replace").rpartition("\n")
    return (int(code) if code.strip().isdigit() else 0), text
