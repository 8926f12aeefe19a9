"""A real network between sidecar and collector: two network namespaces joined by a veth pair, the link cut
while the agent keeps calling. Needs root and iproute2; the addresses exist only inside the namespaces."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Iterator

import pytest

import distributed
from distributed import Collector, Sidecar, kill_process, wait_stored_exactly_once
from support import ManagedProcess, free_port, new_session_id

COLLECTOR_ADDRESS = "10.231.0.1"
SIDECAR_ADDRESS = "10.231.0.2"
PREFIX = 30


def ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(["ip", *args], stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
    if check and result.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {result.stderr.decode(errors='replace').strip()}")
    return result


def netns_get(namespace: str, url: str, timeout: float = 3.0) -> tuple[int, object]:
    """GET from inside a namespace with curl: (status, JSON or text); status 0 when unreachable."""
    try:
        result = subprocess.run(
            ["ip", "netns", "exec", namespace, "curl", "-sS", "-m", str(timeout), "-w", "\n%{http_code}", url],
            stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout + 10,
        )
    except subprocess.TimeoutExpired:
        return 0, "curl did not return"
    body, _, code = result.stdout.rpartition(b"\n")
    status = int(code) if code.strip().isdigit() else 0
    if status == 0:
        return 0, result.stderr.decode(errors="replace").strip()
    try:
        return status, json.loads(body)
    except ValueError:
        return status, body.decode(errors="replace")


def wait_healthy_in(namespace: str, url: str, process: ManagedProcess, timeout: float = 30.0) -> None:
    """Polls `url` from inside the namespace until it answers 200; bounded by `timeout` and 150 attempts."""
    deadline = time.monotonic() + timeout
    last: tuple[int, object] = (0, "no attempt")
    for _ in range(150):
        if process.process is not None and process.process.poll() is not None:
            raise RuntimeError(f"{process.name} exited with code {process.process.returncode}:\n{process.log_tail()}")
        last = netns_get(namespace, url, timeout=2.0)
        if last[0] == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert last[0] == 200, f"{process.name} not healthy at {url} within {timeout} s ({last}):\n{process.log_tail()}"


class NamespacedCollector(Collector):
    """A collector inside a namespace: its API listens on every address there and is read with curl."""

    def get(self, path: str, timeout: float = 5.0) -> tuple[int, object]:
        return netns_get(self.wrapper[-1], f"http://127.0.0.1:{self.http_port}{path}", timeout=timeout)

    def wait_until_healthy(self) -> None:
        assert self.process is not None
        wait_healthy_in(self.wrapper[-1], f"http://127.0.0.1:{self.http_port}/healthz", self.process)


@pytest.fixture
def namespaces() -> Iterator[tuple[str, str, str]]:
    """(collector namespace, sidecar namespace, the sidecar side's veth), deleted again at the end whatever happens."""
    if os.geteuid() != 0:
        pytest.skip("network namespaces need root")
    for tool in ("ip", "curl"):
        if shutil.which(tool) is None:
            pytest.skip(f"`{tool}` is not installed (iproute2 and curl are needed for network namespaces)")
    tag = uuid.uuid4().hex[:6]
    collector_ns, sidecar_ns = f"al-e2e-c-{tag}", f"al-e2e-s-{tag}"
    collector_veth, sidecar_veth = f"alc{tag}", f"als{tag}"
    created: list[str] = []
    try:
        for namespace in (collector_ns, sidecar_ns):
            result = ip("netns", "add", namespace, check=False)
            if result.returncode != 0:
                pytest.skip(f"cannot create network namespaces here: {result.stderr.decode(errors='replace').strip()}")
            created.append(namespace)
        ip("-n", collector_ns, "link", "add", collector_veth, "type", "veth", "peer", "name", sidecar_veth,
           "netns", sidecar_ns)
        for namespace, veth, address in (
            (collector_ns, collector_veth, COLLECTOR_ADDRESS),
            (sidecar_ns, sidecar_veth, SIDECAR_ADDRESS),
        ):
            ip("-n", namespace, "addr", "add", f"{address}/{PREFIX}", "dev", veth)
            ip("-n", namespace, "link", "set", "lo", "up")
            ip("-n", namespace, "link", "set", veth, "up")
        yield collector_ns, sidecar_ns, sidecar_veth
    finally:
        for namespace in created:
            ip("netns", "del", namespace, check=False)


def test_link_cut_between_namespaces_loses_and_doubles_nothing(
    namespaces: tuple[str, str, str], binary: Path, tmp_path: Path
) -> None:
    collector_ns, sidecar_ns, sidecar_veth = namespaces
    in_collector_ns = ["ip", "netns", "exec", collector_ns]
    in_sidecar_ns = ["ip", "netns", "exec", sidecar_ns]
    # The network test is about the link, not the store: SQLite keeps the collector free of the host's Postgres.
    collector = NamespacedCollector(
        binary, tmp_path, f"sqlite:///{tmp_path / 'netns.db'}", ingest_host=COLLECTOR_ADDRESS, http_host="0.0.0.0",
        wrapper=in_collector_ns,
    )
    upstream_port = free_port()
    upstream = ManagedProcess(
        name="mock-upstream (netns)",
        args=[*in_sidecar_ns, str(binary), "mock-upstream", "--host", "127.0.0.1", "--port", str(upstream_port)],
        env=distributed.clean_env(), cwd=tmp_path, log_path=tmp_path / "mock.log",
    )
    sidecar = Sidecar(
        binary, tmp_path, f"http://127.0.0.1:{upstream_port}", collector.ingest_address, source="pod-netns",
        wrapper=in_sidecar_ns,
    )
    agent: subprocess.Popen | None = None
    stack = contextlib.ExitStack()
    try:
        collector.start()
        upstream.start()
        wait_healthy_in(sidecar_ns, f"http://127.0.0.1:{upstream_port}/v1/models", upstream)
        sidecar.start(wait=False)
        assert sidecar.process is not None
        wait_healthy_in(sidecar_ns, f"{sidecar.url}/v1/models", sidecar.process)
        across = f"http://{COLLECTOR_ADDRESS}:{collector.http_port}/healthz"
        assert netns_get(sidecar_ns, across)[0] == 200, "the collector is not reachable over the veth pair"

        session_id = new_session_id("netns")
        agent_log = stack.enter_context(open(tmp_path / "agent.log", "wb"))
        agent = subprocess.Popen(
            [*in_sidecar_ns, sys.executable, distributed.__file__, "agent", sidecar.url, session_id, "30", "0.2"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=agent_log, cwd=tmp_path,
        )
        assert agent.stdout is not None
        lines: list[dict] = []
        reader = threading.Thread(
            target=lambda: lines.extend(json.loads(line) for line in agent.stdout if line.strip()), daemon=True
        )
        reader.start()
        time.sleep(1.5)
        ip("-n", sidecar_ns, "link", "set", sidecar_veth, "down")
        try:
            time.sleep(0.5)
            cut = netns_get(sidecar_ns, across, timeout=1.0)
            assert cut[0] == 0, f"the collector stayed reachable with the link down: {cut}"
            time.sleep(2.5)
            assert agent.poll() is None, "the agent finished before the link came back: the cut was not under load"
            status, stored = collector.get(f"/session/{session_id}")
            stored_during_cut = len(stored) if status == 200 and isinstance(stored, list) else 0
            answered_during_cut = len(lines)
        finally:
            ip("-n", sidecar_ns, "link", "set", sidecar_veth, "up")
        assert stored_during_cut < answered_during_cut, (
            f"{stored_during_cut} of {answered_during_cut} calls stored with the link down: the cut did not bite"
        )

        agent.wait(timeout=60)
        reader.join(timeout=10)
        assert agent.returncode == 0, (tmp_path / "agent.log").read_text(errors="replace")[-2000:]
        assert len(lines) == 30, f"{len(lines)} calls reported: {lines[-3:]}"
        failed = [line for line in lines if line.get("status") != 200 or not line.get("action_id")]
        assert not failed, f"calls failed while the link was cut: {failed[:3]}"
        action_ids = [line["action_id"] for line in lines]

        def logs() -> str:
            return f"--- collector ---\n{collector.log_tail(15)}\n--- sidecar ---\n{sidecar.log_tail(15)}"

        wait_stored_exactly_once(collector.get, session_id, action_ids, timeout=30, diagnostics=logs)
        assert {record["source"] for record in collector.get(f"/session/{session_id}")[1]} == {"pod-netns"}
    finally:
        if agent is not None and agent.poll() is None:
            agent.kill()
            agent.wait(timeout=10)
        stack.close()
        for process in (sidecar.process, upstream, collector.process):
            kill_process(process)
