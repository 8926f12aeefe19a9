"""The fleet view (issue 21): a collector and two sidecars as separate processes, reporting STATUS over the link
(docs/protocol.md, "STATUS"); `GET /api/fleet` and the dashboard's Fleet page in a real browser (Debian chromium,
headless) show each sidecar with its figures, sort by any column from the keyboard, link to the sessions seen on a
sidecar, and show a sidecar that stopped (SIGSTOP: silent within a minute) and one that went away (disconnected)."""

from __future__ import annotations

import os
import signal
import socket
import struct
import tempfile
import time
from pathlib import Path

import pytest

from distributed import Fleet
from support import http_client, new_session_id

playwright_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.is_file():
    pytest.skip("Debian chromium is not installed (apt-get install -y chromium)", allow_module_level=True)

from playwright.sync_api import Browser, expect  # noqa: E402

pytestmark = pytest.mark.timeout(240)
SCREENSHOTS = Path(tempfile.gettempdir()) / "agentledger-dashboard-screenshots"


def fleet_api(base_url: str) -> dict:
    with http_client() as client:
        response = client.get(f"{base_url}/api/fleet")
        assert response.status_code == 200, response.text
        return response.json()


def wait_for(what: str, check, seconds: float = 20.0):
    """Polls `check` until it returns something truthy, at most `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def by_source(answer: dict) -> dict[str, dict]:
    return {sidecar["source"]: sidecar for sidecar in answer["sidecars"]}


def test_the_fleet_view_shows_each_sidecar_and_notices_one_that_stops(fleet: Fleet, browser: Browser) -> None:
    collector = fleet.collector()
    status = {"AGENTLEDGER_STATUS_INTERVAL_MS": "500"}
    busy = fleet.sidecar(collector.ingest_address, source="pod-busy", **status)
    quiet = fleet.sidecar(collector.ingest_address, source="pod-quiet", **status)
    busy_session = new_session_id("fleet-busy")
    busy.calls(busy_session, 4, "busy")
    quiet.calls(new_session_id("fleet-quiet"), 1, "quiet")

    # Both report: linked, version 2, with their captured and acknowledged counts.
    def reported() -> dict | None:
        sidecars = by_source(fleet_api(collector.url))
        ready = all(
            sidecars.get(name, {}).get("calls_acknowledged") == calls
            for name, calls in (("pod-busy", 4), ("pod-quiet", 1))
        )
        return sidecars if ready else None

    sidecars = wait_for("both sidecars to report their calls", reported)
    for name in ("pod-busy", "pod-quiet"):
        assert sidecars[name]["state"] == "linked"
        assert sidecars[name]["protocol_version"] == 2
        assert sidecars[name]["calls_dropped"] == 0
        assert sidecars[name]["started_at"] is not None
    assert sidecars["pod-busy"]["calls_captured"] == 4

    page = browser.new_page(viewport={"width": 1280, "height": 800})
    try:
        page.goto(f"{collector.url}/#/fleet")
        rows = page.locator("#fleet-grid tbody tr[data-source]")
        expect(rows).to_have_count(2)
        expect(page.locator('#fleet-grid tr[data-source="pod-busy"]')).to_contain_text("linked")
        expect(page.locator("#fleet-summary")).to_contain_text("2linked")

        # Sorted from the keyboard: Captured, highest first after two presses.
        captured = page.locator('#fleet-grid th button[data-column="Captured"]')
        captured.focus()
        page.keyboard.press("Enter")
        expect(page.locator('#fleet-grid th[aria-sort="ascending"]')).to_contain_text("Captured")
        page.keyboard.press("Enter")
        expect(page.locator('#fleet-grid th[aria-sort="descending"]')).to_contain_text("Captured")
        expect(rows.first).to_have_attribute("data-source", "pod-busy")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "fleet.png"), full_page=True)

        # A sidecar's link opens the sessions seen on it.
        page.locator('#fleet-grid a:has-text("pod-busy")').click()
        expect(page.locator(f'tr[data-session="{busy_session}"]')).to_be_visible()
        expect(page.locator("tbody tr")).to_have_count(1)
        page.goto(f"{collector.url}/#/fleet")

        # A sidecar that stops (SIGSTOP: its link stays open, nothing more comes) is silent within a minute.
        stopped_at = time.monotonic()
        os.kill(busy.process.process.pid, signal.SIGSTOP)
        try:
            expect(page.locator('#fleet-grid tr[data-source="pod-busy"]')).to_have_attribute(
                "data-state", "silent", timeout=60_000)
            silent_after = time.monotonic() - stopped_at
            assert silent_after < 60, f"silent only after {silent_after:.0f} s"
            print(f"\nstopped sidecar shown as silent after {silent_after:.1f} s")
        finally:
            os.kill(busy.process.process.pid, signal.SIGCONT)

        # A sidecar that goes away is disconnected at the next refresh.
        quiet.process.stop()
        expect(page.locator('#fleet-grid tr[data-source="pod-quiet"]')).to_have_attribute(
            "data-state", "disconnected", timeout=15_000)
        expect(page.locator("#fleet-summary")).to_contain_text("1disconnected")
        # The one that resumed reports again and is linked once more.
        expect(page.locator('#fleet-grid tr[data-source="pod-busy"]')).to_have_attribute(
            "data-state", "linked", timeout=15_000)
    finally:
        page.close()


def link(address: str, source: str) -> socket.socket:
    """A sidecar's link as the wire protocol opens it (docs/protocol.md, "HELLO"): open until closed."""
    host, port = address.rsplit(":", 1)
    connection = socket.create_connection((host, int(port)), timeout=10)
    raw = source.encode()
    payload = struct.pack(">H", 1) + struct.pack(">I", len(raw)) + raw + struct.pack(">I", 0xFFFFFFFF)
    payload += struct.pack(">I", 4) + b"test"
    connection.sendall(struct.pack(">IBB", 2 + len(payload), 1, 0x01) + payload)
    header = b""
    while len(header) < 6:
        chunk = connection.recv(6 - len(header))
        assert chunk, f"{source}: the collector closed the link"
        header += chunk
    assert header[5] == 0x02, f"{source}: expected WELCOME, got type {header[5]}"
    return connection


def test_a_fleet_of_hundreds_draws_the_rows_in_view_and_finds_any_pod(fleet: Fleet, browser: Browser) -> None:
    """400 linked sidecars: the table knows all of them (aria-rowcount) but draws only a window of rows, scrolls to the
    last, sorts from the keyboard and narrows to one pod with the filter."""
    collector = fleet.collector()
    count = 400
    links = [link(collector.ingest_address, f"fleet-pod-{index:04d}") for index in range(count)]
    try:
        wait_for("every link in the fleet", lambda: fleet_api(collector.url)["linked"] == count)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        try:
            page.goto(f"{collector.url}/#/fleet")
            grid = page.locator("#fleet-grid")
            expect(grid).to_have_attribute("aria-rowcount", str(count + 1))
            rows = page.locator("#fleet-grid tbody tr[data-source]")
            expect(rows.first).to_have_attribute("data-source", "fleet-pod-0000")
            drawn = rows.count()
            assert 5 < drawn < 100, f"{drawn} rows drawn for {count} sidecars"
            expect(page.locator("#fleet-count")).to_have_text("400 sidecars")

            # Scrolled to the end, the last pod is drawn, at its place in the whole list.
            page.locator("#fleet-table").evaluate("(box) => { box.scrollTop = box.scrollHeight; }")
            last = page.locator('#fleet-grid tr[data-source="fleet-pod-0399"]')
            expect(last).to_be_visible()
            expect(last).to_have_attribute("aria-rowindex", str(count + 1))
            assert rows.count() < 100

            # Sorted by name from the keyboard, descending after two presses: back at the top, the last pod first.
            button = page.locator('#fleet-grid th button[data-column="Sidecar"]')
            button.focus()
            page.keyboard.press("Enter")
            page.keyboard.press("Enter")
            expect(page.locator('#fleet-grid th[aria-sort="descending"]')).to_contain_text("Sidecar")
            expect(rows.first).to_have_attribute("data-source", "fleet-pod-0399")
            expect(rows.first).to_be_visible()

            # The filter narrows the table to the pods that match, and keeps itself in the address.
            page.locator("#fleet-filter").fill("pod-0123")
            expect(rows).to_have_count(1)
            expect(rows.first).to_have_attribute("data-source", "fleet-pod-0123")
            expect(page.locator("#fleet-count")).to_have_text("1 of 400 sidecars")
            assert "q=pod-0123" in page.url
            page.locator("#fleet-filter").fill("no-such-pod")
            expect(rows).to_have_count(0)
            expect(grid).to_have_attribute("aria-rowcount", "1")
        finally:
            page.close()
    finally:
        for connection in links:
            connection.close()


def test_a_collector_with_no_sidecar_says_how_to_link_one(fleet: Fleet, browser: Browser) -> None:
    collector = fleet.collector()
    assert fleet_api(collector.url) == {
        "sidecars": [], "linked": 0, "silent": 0, "disconnected": 0, "silent_after_seconds": 40,
    }
    page = browser.new_page()
    try:
        page.goto(f"{collector.url}/#/fleet")
        expect(page.locator("#fleet-empty")).to_contain_text("AGENTLEDGER_COLLECTOR")
    finally:
        page.close()
