"""The dashboard in a real browser (Debian chromium, headless) against `agentledger up` and the mock upstream."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Iterator

import pytest

from conftest import start_ledger
from support import API_KEY_OPENAI, Ledger, http_client, new_session_id

playwright_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.is_file():
    pytest.skip("Debian chromium is not installed (apt-get install -y chromium)", allow_module_level=True)

from playwright.sync_api import Browser, Page, expect  # noqa: E402

MODEL = "gpt-4o-mini"
# The README's screenshots come from the demo run (test_demo_dashboard.py); these are for looking at failures.
SCREENSHOTS = Path(tempfile.gettempdir()) / "agentledger-dashboard-screenshots"
XSS_SCRIPT = "<script>window.__xss=1</script>"
XSS_IMG = '"><img src=x onerror=window.__xss=2>'


def chat(ledger: Ledger, session_id: str, messages: list[dict], **headers: str) -> tuple[int, dict]:
    """One OpenAI chat call through the proxy; returns the status and the JSON body."""
    with http_client() as client:
        response = client.post(
            f"{ledger.base_url}/v1/chat/completions",
            json={"model": MODEL, "messages": messages},
            headers={"authorization": f"Bearer {API_KEY_OPENAI}", "x-agentledger-session-id": session_id, **headers},
        )
    return response.status_code, response.json()


def user(text: str) -> list[dict]:
    return [{"role": "system", "content": "You plan trips."}, {"role": "user", "content": text}]


class Sessions:
    """The sessions made before the browser opens: a multi-agent one with a tool round and an error, and an XSS one."""

    def __init__(self, ledger: Ledger) -> None:
        self.agents = new_session_id("dash-agents")
        self.xss = new_session_id("dash-xss")
        planner = {"x-agentledger-agent-name": "planner", "x-agentledger-user-id": "ada"}
        chat(ledger, self.agents, user("Plan a weekend in Lisbon"), **planner)
        status, body = chat(ledger, self.agents, user("What is the weather?"), **planner, **{"x-mock-scenario": "tool_call"})
        assert status == 200
        asked = body["choices"][0]["message"]
        results = [{"role": "tool", "tool_call_id": call["id"], "content": "sunny, 24C"} for call in asked["tool_calls"]]
        chat(ledger, self.agents, [*user("What is the weather?"), asked, *results], **planner)
        records = ledger.session_records(self.agents, 3)
        researcher = {
            "x-agentledger-agent-name": "researcher", "x-agentledger-user-id": "ada",
            "x-agentledger-handoff-from": "planner", "x-agentledger-handoff-to": "researcher",
            "x-agentledger-parent-action-id": records[-1]["action_id"],
        }
        chat(ledger, self.agents, user("Find museums open on Sunday"), **researcher)
        status, _ = chat(ledger, self.agents, user("Find restaurants"), **researcher, **{"x-mock-scenario": "error_500"})
        assert status == 500
        chat(ledger, self.xss, user(f"zanzibar {XSS_SCRIPT} and {XSS_IMG}"), **{"x-agentledger-agent-name": XSS_IMG})
        ledger.session_records(self.agents, 5)
        ledger.session_records(self.xss, 1)


@pytest.fixture(scope="module")
def dashboard_ledger(binary: Path, upstream_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ledger]:
    process, base_url = start_ledger(binary, upstream_url, tmp_path_factory.mktemp("dashboard"))
    try:
        yield Ledger(base_url=base_url, upstream_url=upstream_url)
    finally:
        process.stop()


@pytest.fixture(scope="module")
def sessions(dashboard_ledger: Ledger) -> Sessions:
    return Sessions(dashboard_ledger)


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield page
        assert errors == [], f"script errors on the page: {errors}"
    finally:
        context.close()


def open_dashboard(page: Page, ledger: Ledger, hash_path: str = "#/") -> None:
    page.goto(f"{ledger.base_url}/{hash_path}")
    expect(page.locator("#live-status")).to_have_class("live live-live", timeout=5000)


def shoot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


def test_sessions_list_shows_every_session_with_its_totals(page: Page, dashboard_ledger: Ledger, sessions: Sessions) -> None:
    open_dashboard(page, dashboard_ledger)
    row = page.locator(f'#sessions-table tr[data-session="{sessions.agents}"]')
    expect(row).to_be_visible()
    expect(row).to_contain_text("5")
    expect(row.locator(".badge.error")).to_have_text("1")
    expect(page.locator(f'#sessions-table tr[data-session="{sessions.xss}"]')).to_be_visible()
    expect(page.locator("#fleet .card").first).to_be_visible()
    shoot(page, "sessions.png")

    page.fill('#session-filters input[name="agent"]', "researcher")
    page.click('#session-filters button[type="submit"]')
    expect(page.locator(f'#sessions-table tr[data-session="{sessions.agents}"]')).to_be_visible()
    expect(page.locator(f'#sessions-table tr[data-session="{sessions.xss}"]')).to_have_count(0)


def test_calls_tab_shows_prompts_tools_errors_and_links_results(
    page: Page, dashboard_ledger: Ledger, sessions: Sessions
) -> None:
    open_dashboard(page, dashboard_ledger)
    page.click(f'#sessions-table a:text-is("{sessions.agents}")')
    calls = page.locator("#calls details.call")
    expect(calls).to_have_count(5)
    expect(calls.nth(0)).to_contain_text("You plan trips.")
    expect(calls.nth(0)).to_contain_text("Plan a weekend in Lisbon")
    expect(calls.nth(1).locator(".tool-call")).to_have_count(2)
    expect(calls.nth(2).locator(".tool-result a.requested-by").first).to_have_text("answers call #2")
    expect(calls.nth(4).locator(".badge.error")).to_contain_text("500")
    expect(calls.nth(3)).to_contain_text("planner → researcher")
    shoot(page, "calls.png")

    calls.nth(2).locator(".tool-result a.requested-by").first.click()
    expect(page.locator("#calls details.call.focus")).to_have_attribute("data-action", calls.nth(1).get_attribute("data-action"))


def test_flow_tab_draws_agents_and_handoffs_and_filters_calls(
    page: Page, dashboard_ledger: Ledger, sessions: Sessions
) -> None:
    open_dashboard(page, dashboard_ledger, f"#/session/{sessions.agents}?tab=flow")
    graph = page.locator("#flow-graph")
    expect(graph.locator("g.flow-node")).to_have_count(2)
    expect(graph.locator('g.flow-node[data-agent="planner"]')).to_contain_text("3 calls")
    expect(graph.locator('g.flow-node[data-agent="researcher"]')).to_contain_text("1 err")
    edge = graph.locator('g.flow-edge[data-from="planner"][data-to="researcher"]')
    expect(edge).to_have_count(1)
    expect(edge).to_contain_text("2 handoffs")
    shoot(page, "flow.png")

    graph.locator('g.flow-node[data-agent="researcher"]').click()
    expect(page.locator("#agent-filter")).to_contain_text("researcher")
    expect(page.locator("#calls details.call")).to_have_count(2)


def test_search_finds_a_call_and_opens_it(page: Page, dashboard_ledger: Ledger, sessions: Sessions) -> None:
    open_dashboard(page, dashboard_ledger)
    page.fill("#search-input", "zanzibar")
    page.press("#search-input", "Enter")
    results = page.locator("#search-results li")
    expect(results).to_have_count(1)
    expect(results.first.locator("mark").first).to_have_text("zanzibar")
    results.first.locator("a").click()
    expect(page.locator("#session-id")).to_have_text(sessions.xss)
    expect(page.locator("#calls details.call.focus")).to_have_count(1)


def test_user_text_renders_as_text_never_as_markup(page: Page, dashboard_ledger: Ledger, sessions: Sessions) -> None:
    open_dashboard(page, dashboard_ledger)
    expect(page.locator(f'#sessions-table tr[data-session="{sessions.xss}"]')).to_contain_text(XSS_IMG)
    open_dashboard(page, dashboard_ledger, f"#/session/{sessions.xss}")
    call = page.locator("#calls details.call").first
    expect(call).to_contain_text(XSS_SCRIPT)
    expect(call).to_contain_text(XSS_IMG)
    open_dashboard(page, dashboard_ledger, "#/search?q=zanzibar")
    expect(page.locator("#search-results li")).to_contain_text(XSS_SCRIPT)
    open_dashboard(page, dashboard_ledger, f"#/session/{sessions.xss}?tab=flow")
    expect(page.locator("#flow-graph g.flow-node")).to_have_count(1)
    page.wait_for_timeout(300)
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.locator("#view img").count() == 0


def test_live_calls_appear_without_reloading(page: Page, dashboard_ledger: Ledger, sessions: Sessions) -> None:
    open_dashboard(page, dashboard_ledger)
    page.evaluate("window.__sameDocument = true")
    fresh = new_session_id("dash-live")
    started = time.monotonic()
    chat(dashboard_ledger, fresh, user("A live question"), **{"x-agentledger-agent-name": "live-agent"})
    row = page.locator(f'#sessions-table tr[data-session="{fresh}"]')
    expect(row).to_be_visible(timeout=3000)
    appeared = time.monotonic() - started
    expect(row).to_contain_text("live-agent")
    assert page.evaluate("window.__sameDocument") is True, "the page reloaded"

    chat(dashboard_ledger, fresh, user("A second live question"), **{"x-agentledger-agent-name": "live-agent"})
    expect(row.locator("td").nth(6)).to_have_text("2", timeout=3000)

    page.click(f'#sessions-table a:text-is("{fresh}")')
    expect(page.locator("#calls details.call")).to_have_count(2)
    chat(dashboard_ledger, fresh, user("A third live question"), **{"x-agentledger-agent-name": "live-agent"})
    expect(page.locator("#calls details.call")).to_have_count(3, timeout=3000)
    assert page.evaluate("window.__sameDocument") is True
    assert appeared < 3.0, f"the live row took {appeared:.2f} s"


def test_overview_charts_spend_calls_and_latency(page: Page, dashboard_ledger: Ledger, sessions: Sessions) -> None:
    open_dashboard(page, dashboard_ledger, "#/overview")
    charts = page.locator("#overview-charts figure.chart")
    expect(charts).to_have_count(5)
    expect(charts.nth(3)).to_contain_text(MODEL)
    expect(charts.nth(4)).to_contain_text("planner")
    expect(charts.nth(2).locator("g.series")).to_have_count(3)
    shoot(page, "overview.png")


def test_api_key_is_asked_once_and_sent_as_a_header(
    binary: Path, upstream_url: str, tmp_path_factory: pytest.TempPathFactory, browser: Browser
) -> None:
    process, base_url = start_ledger(
        binary, upstream_url, tmp_path_factory.mktemp("dashboard-key"), AGENTLEDGER_API_KEY="dash-key-123"
    )
    try:
        ledger = Ledger(base_url=base_url, upstream_url=upstream_url)
        session_id = new_session_id("dash-key")
        chat(ledger, session_id, user("Keyed question"))
        context = browser.new_context()
        page = context.new_page()
        urls: list[str] = []
        page.on("request", lambda request: urls.append(request.url))
        page.goto(f"{base_url}/")
        expect(page.locator("#key-dialog")).to_be_visible()
        page.fill("#key-input", "wrong")
        page.press("#key-input", "Enter")
        expect(page.locator("#key-error")).to_be_visible()
        page.fill("#key-input", "dash-key-123")
        page.press("#key-input", "Enter")
        expect(page.locator(f'#sessions-table tr[data-session="{session_id}"]')).to_be_visible(timeout=5000)
        expect(page.locator("#live-status")).to_have_class("live live-live", timeout=5000)
        live = new_session_id("dash-key-live")
        with http_client() as client:
            client.post(
                f"{base_url}/v1/chat/completions",
                json={"model": MODEL, "messages": user("Keyed live question")},
                headers={"authorization": f"Bearer {API_KEY_OPENAI}", "x-agentledger-session-id": live},
            )
        expect(page.locator(f'#sessions-table tr[data-session="{live}"]')).to_be_visible(timeout=3000)
        assert not [url for url in urls if "dash-key-123" in url]
        context.close()
    finally:
        process.stop()


def test_budgets_view_shows_spend_against_limits_and_changes_a_limit(
    binary: Path, upstream_url: str, tmp_path_factory: pytest.TempPathFactory, browser: Browser
) -> None:
    workdir = tmp_path_factory.mktemp("dashboard-budgets")
    policy = workdir / "policy.yaml"
    policy.write_text('budgets:\n  agent: {"*": 5, planner: 0}\n  app: 100\nperiods: {app: month}\n'
                      "rate_limits:\n  global: 1000\n")
    process, base_url = start_ledger(binary, upstream_url, workdir, AGENTLEDGER_POLICY_FILE=str(policy))
    try:
        ledger = Ledger(base_url=base_url, upstream_url=upstream_url)
        session_id = new_session_id("dash-budgets")
        for _ in range(2):
            chat(ledger, session_id, user("Plan a weekend"), **{"x-agentledger-agent-name": "planner"})
        ledger.session_records(session_id, 2)
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"{base_url}/#/budgets")
        agent = page.locator('section.budget[data-scope="agent"]')
        expect(agent).to_contain_text("per day")
        # planner may spend nothing: its row comes first, at its limit, in red.
        expect(agent.locator("tbody tr").first).to_have_attribute("data-key", "planner")
        expect(agent.locator("tbody tr").first.locator(".used")).to_have_class("used used-over")
        expect(page.locator('section.budget[data-scope="app"]')).to_contain_text("per month, resets")
        expect(page.locator('section.budget[data-rate="global"]')).to_contain_text("1,000 each per 60 s")
        expect(page.locator("#changes")).to_contain_text("No limit has been changed")
        shoot(page, "budgets.png")

        page.select_option('#limit-form select[name="scope"]', "agent")
        page.fill('#limit-form input[name="key"]', "planner")
        page.fill('#limit-form input[name="value"]', "50")
        page.click('#limit-form button[type="submit"]')
        expect(page.locator("#limit-message")).to_contain_text("agent/planner is now $50.00")
        expect(page.locator("#policy-changes tbody tr").first).to_contain_text("dashboard")
        expect(page.locator("#policy-changes tbody tr").first).to_contain_text("$50.00")
        expect(agent.locator('tbody tr[data-key="planner"] .used')).to_have_class("used used-ok")
        # The next call is judged by the new limit.
        status, _ = chat(ledger, session_id, user("And another"), **{"x-agentledger-agent-name": "planner"})
        assert status == 200

        page.fill('#limit-form input[name="value"]', "-1")
        page.fill('#limit-form input[name="key"]', "x")
        page.eval_on_selector('#limit-form input[name="value"]', "node => node.removeAttribute('min')")
        page.click('#limit-form button[type="submit"]')
        expect(page.locator("#limit-message")).to_have_class("error")
        expect(page.locator("#limit-message")).to_contain_text("from 0")
        assert errors == [], errors
        context.close()
    finally:
        process.stop()


def test_a_total_that_leaves_out_unpriced_calls_says_so(page: Page, dashboard_ledger: Ledger, sessions: Sessions) -> None:
    session_id = new_session_id("dash-unpriced")
    with http_client() as client:
        for model in (MODEL, "acme-llama-70b"):
            client.post(
                f"{dashboard_ledger.base_url}/v1/chat/completions",
                json={"model": model, "messages": user("Priced or not?")},
                headers={"authorization": f"Bearer {API_KEY_OPENAI}", "x-agentledger-session-id": session_id},
            )
    dashboard_ledger.session_records(session_id, 2)
    open_dashboard(page, dashboard_ledger)
    row = page.locator(f'#sessions-table tr[data-session="{session_id}"]')
    expect(row.locator(".unpriced")).to_have_text("+1 unpriced")
    page.goto(f"{dashboard_ledger.base_url}/#/session/{session_id}")
    expect(page.locator(".cards .unpriced").first).to_have_text("+1 unpriced")


def test_timeline_shows_calls_by_agent_with_links_and_opens_one_call(
    page: Page, dashboard_ledger: Ledger, sessions: Sessions
) -> None:
    open_dashboard(page, dashboard_ledger, f"#/session/{sessions.agents}?tab=timeline")
    bars = page.locator("#timeline-svg g.bar")
    expect(bars).to_have_count(5)
    expect(page.locator("#timeline-svg .lane-name")).to_have_text(["planner", "researcher"])
    expect(page.locator("#timeline-svg g.bar.state-error")).to_have_count(1)
    assert page.locator("#timeline-svg g.bar.state-error rect").get_attribute("fill") == "#dc2626"
    expect(page.locator("#timeline-svg path.link-handoff")).not_to_have_count(0)
    expect(page.locator("#timeline-svg path.link-tool")).not_to_have_count(0)
    # Each bar says its model, cost and tokens.
    expect(bars.first.locator("text")).to_contain_text(MODEL)
    expect(bars.first.locator("text")).to_contain_text("tok")

    # From the keyboard: the third call (the tool round's answer) resends history shown in call 2.
    third = page.locator('#timeline-svg g.bar[data-index="3"]')
    third.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#timeline-call h3")).to_contain_text("Call #3")
    expect(page.locator("#timeline-history")).to_contain_text("same as call")
    expect(page.locator("#timeline-call")).to_have_count(1)
    shoot(page, "timeline.png")


def test_timeline_folds_long_text(page: Page, dashboard_ledger: Ledger) -> None:
    session = new_session_id("dash-long")
    long_prompt = "Summarize the filing. " + "The quarter's revenue grew in every region. " * 60
    status, _ = chat(dashboard_ledger, session, user(long_prompt), **{"x-agentledger-agent-name": "summarizer"})
    assert status == 200
    dashboard_ledger.session_records(session, 1)
    open_dashboard(page, dashboard_ledger, f"#/session/{session}?tab=timeline")
    page.locator("#timeline-svg g.bar").first.click()
    fold = page.locator("#timeline-call details.fold").first
    expect(fold).to_be_visible()
    expect(fold.locator("summary")).to_contain_text("show all")
    fold.locator("summary").click()
    expect(fold).to_have_attribute("open", "")


def test_costs_break_spend_down_and_say_what_is_unpriced(page: Page, dashboard_ledger: Ledger, sessions: Sessions) -> None:
    with http_client() as client:
        answer = client.get(f"{dashboard_ledger.base_url}/api/spend", params={"group_by": "agent"}).json()
        bad = client.get(f"{dashboard_ledger.base_url}/api/spend", params={"group_by": "team"})
    keys = {group["key"] for group in answer["groups"]}
    assert {"planner", "researcher"} <= keys, answer
    assert answer["calls"] >= 5 and "unpriced_calls" in answer and answer["total_usd"] > 0
    assert bad.status_code == 400 and "group_by" in bad.json()["detail"]

    open_dashboard(page, dashboard_ledger, "#/costs?range=24h")
    for dimension in ("agent", "user", "app", "model", "environment"):
        expect(page.locator(f'#cost-panels section[data-dimension="{dimension}"]')).to_be_visible()
    expect(page.locator('#cost-panels section[data-dimension="agent"]')).to_contain_text("researcher")
    expect(page.locator('#cost-panels section[data-dimension="user"]')).to_contain_text("ada")
    expect(page.locator("#cost-total")).to_contain_text("spend in range")
    expect(page.locator("#cost-budgets")).to_contain_text("No budget is set")
    shoot(page, "costs.png")


def test_charts_have_dated_axes_and_one_color_per_name(page: Page, dashboard_ledger: Ledger, sessions: Sessions) -> None:
    open_dashboard(page, dashboard_ledger, "#/overview?range=24h")
    ticks = page.locator("#overview-charts figure").first.locator("g.tick text")
    expect(ticks).to_have_count(5)
    month = page.evaluate("new Date().toLocaleDateString([], {month: 'short'})")
    assert month in ticks.first.text_content(), ticks.all_text_contents()
    expect(page.locator("#overview-charts .legend").first).to_contain_text("times in")
    errors = page.locator('#overview-charts g.series[data-name="errors"] path')
    assert errors.get_attribute("stroke") == "#dc2626"
    model_color = page.locator(f'#overview-charts rect[data-name="{MODEL}"]').first.get_attribute("fill")
    assert model_color and model_color not in ("#dc2626", "#d97706")
    # The same model keeps its color in a session's timeline.
    open_dashboard(page, dashboard_ledger, f"#/session/{sessions.agents}?tab=timeline")
    ok_bar = page.locator("#timeline-svg g.bar.state-ok rect").first
    assert ok_bar.get_attribute("fill") == model_color
