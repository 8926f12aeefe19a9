"""The dashboard after `agentledger demo` (its trip-planner run and the simulated fleet's day), in headless chromium;
saves the README's screenshots (docs/screenshots/)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Iterator

import pytest

from support import REPO_ROOT, ManagedProcess, free_port, http_client, ledger_env

pytest.importorskip("playwright.sync_api")
CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.is_file():
    pytest.skip("Debian chromium is not installed (apt-get install -y chromium)", allow_module_level=True)

from playwright.sync_api import Browser, Page, expect  # noqa: E402

SCREENSHOTS = REPO_ROOT / "docs" / "screenshots"
AGENTS = ("orchestrator", "researcher", "writer")
DEMO_CALLS = 18


class Demo:
    """A running `agentledger demo` whose 18 calls are all stored, and its sessions (newest first)."""

    def __init__(self, base_url: str, sessions: list[dict]) -> None:
        self.base_url = base_url
        self.sessions = sessions

    @property
    def lisbon(self) -> str:
        return next(s["session_id"] for s in self.sessions if s["session_id"].startswith("demo-lisbon-"))


@pytest.fixture(scope="module")
def demo(binary: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    workdir = tmp_path_factory.mktemp("demo-dashboard")
    port = free_port()
    env = ledger_env(port, free_port(), "", workdir)
    env.pop("AGENTLEDGER_UPSTREAM_URL")
    process = ManagedProcess(
        name="agentledger demo", args=[str(binary), "demo"], env=env, cwd=workdir, log_path=workdir / "demo.log"
    )
    process.start()
    try:
        base_url = f"http://127.0.0.1:{port}"
        process.wait_until_healthy(f"{base_url}/healthz")
        sessions: list[dict] = []
        deadline = time.monotonic() + 30
        with http_client() as client:
            while time.monotonic() < deadline:
                sessions = client.get(f"{base_url}/api/sessions", params={"app": "trip-planner"}).json()
                if sum(session["call_count"] for session in sessions) >= DEMO_CALLS and "simulated pods" in process.log_tail(60):
                    break
                time.sleep(0.1)
        assert sum(session["call_count"] for session in sessions) == DEMO_CALLS, f"{sessions}\n{process.log_tail()}"
        with http_client() as client:  # the collector writes its sidecars to the store every 2 s
            while time.monotonic() < deadline + 10 and len(client.get(f"{base_url}/api/fleet").json()["sidecars"]) < 6:
                time.sleep(0.2)
        yield Demo(base_url, sessions)
    finally:
        process.stop()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 900}, device_scale_factor=1)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield page
        assert errors == [], f"script errors on the page: {errors}"
    finally:
        context.close()


def open_dashboard(page: Page, demo: Demo, hash_path: str = "#/") -> None:
    page.goto(f"{demo.base_url}/{hash_path}")
    expect(page.locator("#live-status")).to_have_class("live live-live", timeout=5000)


def shoot(page: Page, name: str, below: str | None = None) -> None:
    """A README screenshot of the viewport (1400x900), or down to the element `below` when it ends higher up."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.mouse.move(0, 0)
    page.wait_for_timeout(200)
    clip = None
    if below:
        box = page.locator(below).bounding_box()
        if box:
            clip = {"x": 0, "y": 0, "width": 1400, "height": min(900, box["y"] + box["height"] + 24)}
    page.screenshot(path=str(SCREENSHOTS / name), clip=clip, animations="disabled")


def test_sessions_lists_the_three_demo_sessions(page: Page, demo: Demo) -> None:
    open_dashboard(page, demo, "#/?app=trip-planner")
    rows = page.locator("#sessions-table tbody tr")
    expect(rows).to_have_count(3)
    for session in demo.sessions:
        row = page.locator(f'#sessions-table tr[data-session="{session["session_id"]}"]')
        expect(row.locator("td").nth(6)).to_have_text("6")
        expect(row.locator(".badge.error")).to_have_text("1")
        expect(row.locator("td").nth(4)).to_have_text("demo")
        expect(row.locator("td.sources")).not_to_have_text("—")
    expect(page.locator("#session-count")).to_contain_text("3 sessions")
    expect(page.locator("#fleet .card").first).to_contain_text("$")
    open_dashboard(page, demo)
    expect(page.locator("#sessions-table tbody tr")).to_have_count(50)
    shoot(page, "sessions.png", below="#sessions-table")


def test_calls_tab_shows_tools_linked_results_and_the_error(page: Page, demo: Demo) -> None:
    open_dashboard(page, demo)
    page.click(f'#sessions-table a:text-is("{demo.lisbon}")')
    calls = page.locator("#calls details.call")
    expect(calls).to_have_count(6)
    expect(calls.nth(0)).to_contain_text("Plan two days in Lisbon for a first-time visitor.")
    expect(calls.nth(1).locator(".tool-call")).to_have_count(2)
    expect(calls.nth(1).locator(".tool-call strong")).to_have_text(["get_weather", "get_time"])
    expect(calls.nth(2).locator(".tool-result")).to_have_count(2)
    expect(calls.nth(2).locator(".tool-result a.requested-by")).to_have_text(["answers call #2", "answers call #2"])
    expect(calls.nth(2)).to_contain_text("18°C, light rain")
    error = calls.nth(3)
    expect(error.locator("summary .badge.error")).to_contain_text("500")
    expect(error.locator("summary .badge.blocked")).to_have_count(0)
    expect(error).to_have_class("call state-other")
    expect(calls.nth(4)).to_contain_text("researcher → writer")
    expect(calls.nth(4)).to_contain_text("TTFT")
    expect(page.locator(".session-head .card.error .card-value")).to_have_text("1")
    expect(page.locator(".session-head .card.blocked .card-value")).to_have_text("0")

    for index in (0, 4, 5):
        calls.nth(index).locator("summary").click()
    calls.nth(1).locator("summary").scroll_into_view_if_needed()
    page.evaluate("window.scrollBy(0, -60)")
    shoot(page, "calls.png")

    calls.nth(2).locator(".tool-result a.requested-by").first.click()
    expect(page.locator("#calls details.call.focus")).to_have_attribute("data-action", calls.nth(1).get_attribute("data-action"))


def test_flow_draws_three_agents_and_their_handoffs(page: Page, demo: Demo) -> None:
    open_dashboard(page, demo, f"#/session/{demo.lisbon}?tab=flow")
    graph = page.locator("#flow-graph")
    expect(graph.locator("g.flow-node")).to_have_count(3)
    for agent in AGENTS:
        expect(graph.locator(f'g.flow-node[data-agent="{agent}"]')).to_have_count(1)
    expect(graph.locator('g.flow-node[data-agent="researcher"]')).to_contain_text("3 calls")
    expect(graph.locator('g.flow-node[data-agent="researcher"]')).to_contain_text("1 err")
    for source, target in (("orchestrator", "researcher"), ("researcher", "writer"), ("writer", "orchestrator")):
        edge = graph.locator(f'g.flow-edge.handoff[data-from="{source}"][data-to="{target}"]')
        expect(edge).to_contain_text("1 handoff")
    shoot(page, "flow.png", below="#flow-graph")

    graph.locator('g.flow-node[data-agent="writer"]').click()
    expect(page.locator("#agent-filter")).to_contain_text("writer")
    expect(page.locator("#calls details.call")).to_have_count(1)


def test_search_finds_the_itineraries(page: Page, demo: Demo) -> None:
    open_dashboard(page, demo)
    page.fill("#search-input", "itinerary")
    page.press("#search-input", "Enter")
    results = page.locator("#search-results li")
    expect(results).to_have_count(6)
    expect(results.first.locator("mark").first).to_have_text("itinerary", ignore_case=True)
    lisbon = results.filter(has_text="Write the itinerary for Lisbon")
    expect(lisbon).to_have_count(1)
    lisbon.locator("a").click()
    expect(page.locator("#session-id")).to_have_text(demo.lisbon)
    expect(page.locator("#calls details.call.focus")).to_contain_text("writer")


def test_overview_charts_the_demo_spend(page: Page, demo: Demo) -> None:
    open_dashboard(page, demo, "#/overview?range=24h")
    charts = page.locator("#overview-charts figure.chart")
    expect(charts.first).to_be_visible()
    by_model = charts.filter(has_text="Spend by model")
    for model in ("gpt-4o", "gpt-4o-mini", "claude-sonnet-4-5"):
        expect(by_model).to_contain_text(model)
    by_agent = charts.filter(has_text="Spend by agent")
    for agent in AGENTS:
        expect(by_agent).to_contain_text(agent)
    expect(charts.filter(has_text="Calls and errors").locator("g.series")).to_have_count(3)
    spend = charts.filter(has_text="Spend over time by model")
    for model in ("gpt-4o", "gpt-4o-mini", "claude-sonnet-4-5"):
        expect(spend.locator(f'g.column rect[data-name="{model}"]').first).to_be_attached()
    # A day of columns, not one burst.
    assert spend.locator("g.column").count() >= 20
    shoot(page, "overview.png")


def test_fleet_shows_the_simulated_pods(page: Page, demo: Demo) -> None:
    open_dashboard(page, demo, "#/fleet")
    rows = page.locator("#fleet-grid tbody tr[data-source]")
    expect(rows).to_have_count(6)
    expect(page.locator('#fleet-grid tr[data-state="disconnected"]')).to_have_count(1)
    expect(page.locator('#fleet-grid tr[data-source="support-bot-6d8f9-x2kqp"]')).to_contain_text("linked")
    shoot(page, "fleet.png")


def test_timeline_of_a_research_session(page: Page, demo: Demo) -> None:
    with http_client() as client:
        sessions = client.get(f"{demo.base_url}/api/sessions", params={"app": "research-assistant", "limit": 100}).json()
    session = max(sessions, key=lambda s: s["call_count"])
    open_dashboard(page, demo, f"#/session/{session['session_id']}?tab=timeline")
    expect(page.locator("#timeline-svg g.bar")).to_have_count(session["call_count"])
    expect(page.locator("#timeline-svg path.link-handoff")).not_to_have_count(0)
    page.locator("#timeline-svg g.bar").nth(1).click()
    expect(page.locator("#timeline-call")).to_be_visible()
    shoot(page, "timeline.png")


def test_costs_over_the_day(page: Page, demo: Demo) -> None:
    open_dashboard(page, demo, "#/costs?range=24h")
    expect(page.locator('#cost-panels section[data-dimension="agent"]')).to_contain_text("researcher")
    expect(page.locator("#cost-total")).to_contain_text("unpriced")
    shoot(page, "costs.png")
