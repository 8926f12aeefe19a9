"""Fixtures: the built `agentledger`, a mock upstream and an `agentledger up` in front of it, all on loopback."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from distributed import Fleet
from support import (
    Ledger,
    ManagedProcess,
    agentledger_binary,
    free_port,
    ledger_env,
)


@pytest.fixture(scope="session")
def binary() -> Path:
    return agentledger_binary()


@pytest.fixture(scope="session")
def upstream_url(binary: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`agentledger mock-upstream` on a free loopback port."""
    workdir = tmp_path_factory.mktemp("mock")
    port = free_port()
    mock = ManagedProcess(
        name="mock-upstream",
        args=[str(binary), "mock-upstream", "--host", "127.0.0.1", "--port", str(port)],
        env=ledger_env(0, 0, "", workdir),
        cwd=workdir,
        log_path=workdir / "mock.log",
    )
    mock.start()
    url = f"http://127.0.0.1:{port}"
    try:
        mock.wait_until_healthy(f"{url}/v1/models")
        yield url
    finally:
        mock.stop()


def start_ledger(binary: Path, upstream: str, workdir: Path, **extra_env: str) -> tuple[ManagedProcess, str]:
    proxy_port, ingest_port = free_port(), free_port()
    process = ManagedProcess(
        name="agentledger up",
        args=[str(binary), "up"],
        env=ledger_env(proxy_port, ingest_port, upstream, workdir, **extra_env),
        cwd=workdir,
        log_path=workdir / "up.log",
    )
    process.start()
    base_url = f"http://127.0.0.1:{proxy_port}"
    process.wait_until_healthy(f"{base_url}/healthz")
    return process, base_url


@pytest.fixture(scope="session")
def ledger(binary: Path, upstream_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ledger]:
    """`agentledger up` (proxy, collector, SQLite) forwarding to the mock upstream."""
    process, base_url = start_ledger(binary, upstream_url, tmp_path_factory.mktemp("ledger"))
    try:
        yield Ledger(base_url=base_url, upstream_url=upstream_url)
    finally:
        process.stop()


@pytest.fixture(scope="module")
def small_body_ledger(binary: Path, upstream_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ledger]:
    """A second `agentledger up` that accepts request bodies of at most 1 MB."""
    process, base_url = start_ledger(
        binary, upstream_url, tmp_path_factory.mktemp("ledger-small"), AGENTLEDGER_MAX_BODY_MB="1"
    )
    try:
        yield Ledger(base_url=base_url, upstream_url=upstream_url)
    finally:
        process.stop()


@pytest.fixture
def fleet(binary: Path, upstream_url: str, tmp_path: Path) -> Iterator[Fleet]:
    """Separate `agentledger collector` and `agentledger sidecar` processes for one test, SIGKILLed at its end."""
    fleet = Fleet(binary, upstream_url, tmp_path)
    try:
        yield fleet
    finally:
        fleet.close()


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium, headless, driven by Playwright; one per test module. Modules that use it skip themselves
    when chromium or Playwright is missing."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()

