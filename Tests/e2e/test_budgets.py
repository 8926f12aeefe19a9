"""Budgets and rate limits enforced by the collector across every sidecar (docs/reference.md, "Refusals"), end to end:
real `agentledger collector` and `agentledger sidecar` processes, the mock upstream, the official openai SDK.

The tests price a model of their own through AGENTLEDGER_PRICING_FILE (no input price, $10 per million output
tokens), so a call's worst case is exactly `max_tokens` x $0.00001 whatever its body, and budgets can be set to
"room for N calls" without depending on the built-in price table. They run the collector in `strict` admission
mode, whose reservation is that worst case; the default `expected` mode is tested in test_budget_modes.py.
"""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import openai
import pytest

from distributed import Fleet, parse_metrics, session_records
from support import API_KEY_OPENAI, http_client, new_session_id, openai_client

MODEL = "budget-test-model"
MAX_TOKENS = 1000
WORST_CASE = MAX_TOKENS * 10 / 1_000_000  # $0.01


def pricing_file(workdir: Path) -> str:
    path = workdir / "prices.json"
    path.write_text(json.dumps({"version": "e2e", "models": {MODEL: {"input": 0, "output": 10}}}))
    return str(path)


def sqlite_dsn(workdir: Path, name: str) -> str:
    """Daily budgets count everything of the UTC day: these tests get a store of their own."""
    return f"sqlite:///{workdir / name}"


def call(
    base_url: str,
    session_id: str,
    *,
    agent: str | None = None,
    user: str | None = None,
    app: str | None = None,
    slow: bool = False,
    start: threading.Barrier | None = None,
):
    """One chat call through a sidecar; a slow one streams for a few seconds, so it stays in flight while the others
    are admitted; `start` lines concurrent calls up so they leave together."""
    headers = {"authorization": f"Bearer {API_KEY_OPENAI}", "x-agentledger-session-id": session_id}
    if agent:
        headers["x-agentledger-agent-name"] = agent
    if user:
        headers["x-agentledger-user-id"] = user
    if app:
        headers["x-agentledger-app-id"] = app
    body = {"model": MODEL, "max_tokens": MAX_TOKENS, "messages": [{"role": "user", "content": "hello"}]}
    if slow:
        body["stream"] = True
        headers["x-mock-delay-ms"] = "400"
    with http_client(timeout=30.0) as client:
        if start is not None:
            start.wait(timeout=20)
        response = client.post(f"{base_url}/v1/chat/completions", json=body, headers=headers)
        return response.status_code, dict(response.headers), response.text


def test_fifty_concurrent_calls_from_two_sidecars_with_room_for_five_let_five_through(fleet: Fleet, tmp_path: Path):
    collector = fleet.collector(
        AGENTLEDGER_PRICING_FILE=pricing_file(tmp_path), AGENTLEDGER_BUDGET_SESSION=f"{WORST_CASE * 5.5:.6f}",
        AGENTLEDGER_ADMISSION_MODE="strict",
    )
    pods = [fleet.sidecar(collector.ingest_address, source=f"pod-{name}") for name in "ab"]
    session = new_session_id("budget50")
    # All 50 leave together and stream for seconds: every admission happens while the first five are in flight, so
    # no settled call can free room (their real cost is far below the worst case reserved for them).
    start = threading.Barrier(50)
    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(lambda index: call(pods[index % 2].url, session, slow=True, start=start), range(50)))

    statuses = [status for status, _, _ in results]
    assert statuses.count(200) == 5, f"admitted {statuses.count(200)} of 50 with room for 5\n{fleet.logs()}"
    assert statuses.count(429) == 45, statuses
    for status, headers, text in results:
        if status == 429:
            error = json.loads(text)["error"]
            assert error["type"] == "budget_exceeded"
            assert "Session budget of $0.0550 exceeded" in error["message"] and session in error["message"]
            assert "retry-after" not in headers, "session budgets are lifetime: no Retry-After"
            assert headers.get("x-agentledger-action-id")

    records = session_records(collector, session, 50)
    assert len(records) == 50, f"{len(records)} of 50 calls recorded\n{fleet.logs()}"
    blocked = [record for record in records if record["blocked"]]
    assert len(blocked) == 45
    assert all(record["status_code"] == 429 for record in blocked)
    assert {record["source"] for record in records} == {"pod-a", "pod-b"}
    metrics = collector.metrics()
    assert metrics.get("agentledger_refusals_total", 0) >= 45


def test_two_sidecars_share_agent_user_and_daily_budgets(fleet: Fleet, tmp_path: Path):
    collector = fleet.collector(
        dsn=sqlite_dsn(tmp_path, "shared.db"),
        AGENTLEDGER_PRICING_FILE=pricing_file(tmp_path),
        AGENTLEDGER_ADMISSION_MODE="strict",
        AGENTLEDGER_BUDGET_AGENT=f"{WORST_CASE * 2.5:.6f}",
        AGENTLEDGER_BUDGET_USER=f"{WORST_CASE * 3.5:.6f}",
        AGENTLEDGER_BUDGET_DAILY=f"{WORST_CASE * 6.5:.6f}",
    )
    a = fleet.sidecar(collector.ingest_address, source="pod-a")
    b = fleet.sidecar(collector.ingest_address, source="pod-b")

    def refusal(status: int, headers: dict, text: str, limit: str) -> None:
        assert status == 429, f"expected a {limit} refusal, got {status}: {text[:200]}"
        message = json.loads(text)["error"]["message"]
        assert limit in message, message
        retry_after = int(headers["retry-after"])
        assert 0 < retry_after <= 86_400, "daily budgets retry after the next UTC midnight"

    # Each call reserves its worst case; real costs are a few output tokens, so settled calls free most of it.
    # Calls are slow streams sent together, so their reservations overlap.
    with ThreadPoolExecutor(max_workers=3) as pool:
        first = list(pool.map(lambda pod: call(pod.url, new_session_id("w"), agent="writer", user="ann", slow=True), [a, b, a]))
    assert sorted(status for status, _, _ in first) == [200, 200, 429], [status for status, _, _ in first]
    refusal(*next(result for result in first if result[0] == 429), limit="Agent daily budget")

    with ThreadPoolExecutor(max_workers=4) as pool:
        agents = ["reader", "critic", "planner", "editor"]
        second = list(
            pool.map(lambda index: call([a, b][index % 2].url, new_session_id("u"), agent=agents[index], user="ann", slow=True), range(4))
        )
    # ann spent a little on two calls and has room for 3.5 worst cases: at most three of these four pass (fewer if
    # the first calls' records had not settled their reservations yet).
    passed = [status for status, _, _ in second].count(200)
    assert 1 <= passed <= 3, f"{passed} of 4 passed with room for at most 3 more of ann's calls"
    for result in second:
        if result[0] == 429:
            refusal(*result, limit="User daily budget")

    with ThreadPoolExecutor(max_workers=8) as pool:
        third = list(pool.map(lambda index: call([a, b][index % 2].url, new_session_id("d"), agent=f"solo-{index}", slow=True), range(8)))
    passed_daily = [status for status, _, _ in third].count(200)
    assert passed_daily <= 6, f"the daily budget of 6.5 worst cases let {passed_daily} more through"
    assert any(result[0] == 429 for result in third)
    for result in third:
        if result[0] == 429:
            refusal(*result, limit="Daily budget")

    # GET /api/budgets: every budget with its keys' spend once every call has settled, closest to its limit first.
    deadline = time.monotonic() + 10
    while True:
        status, report = collector.get("/api/budgets")
        assert status == 200, report
        budgets = {budget["scope"]: budget for budget in report["budgets"]}
        reserved = [key["reserved_usd"] for budget in report["budgets"] for key in budget["keys"]]
        if not any(reserved) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert not any(reserved), f"reservations left after every call ended: {report}"
    assert report["source"] == "collector" and report["admission_mode"] == "strict"
    assert list(budgets) == sorted(budgets, key=lambda scope: -budgets[scope]["keys"][0]["used_fraction"]), report
    assert set(budgets) == {"agent", "user", "fleet"}
    assert budgets["agent"]["period"] == "day" and budgets["agent"]["limit_usd"] == pytest.approx(WORST_CASE * 2.5)
    assert "writer" in {key["key"] for key in budgets["agent"]["keys"]}
    assert [key["key"] for key in budgets["user"]["keys"]] == ["ann"]
    assert budgets["fleet"]["keys"][0]["key"] is None
    # The fleet's spend is every admitted call's; each key's remaining is its limit less its spend.
    spent = sum(key["spent_usd"] for key in budgets["agent"]["keys"])
    assert budgets["fleet"]["keys"][0]["spent_usd"] == pytest.approx(spent)
    for budget in report["budgets"]:
        for key in budget["keys"]:
            assert key["remaining_usd"] == pytest.approx(max(budget["limit_usd"] - key["spent_usd"], 0))
    status, error = collector.get("/api/budgets?limit=0")
    assert status == 400 and "limit" in json.dumps(error), error


def test_an_app_budget_is_shared_by_every_sidecar_and_leaves_other_apps_alone(fleet: Fleet, tmp_path: Path):
    collector = fleet.collector(
        dsn=sqlite_dsn(tmp_path, "apps.db"),
        AGENTLEDGER_PRICING_FILE=pricing_file(tmp_path),
        AGENTLEDGER_ADMISSION_MODE="strict",
        AGENTLEDGER_BUDGET_APP=f"{WORST_CASE * 1.5:.6f}",
    )
    a = fleet.sidecar(collector.ingest_address, source="pod-a")
    b = fleet.sidecar(collector.ingest_address, source="pod-b")
    # Two slow calls of one app from two pods together: room for one worst case and a half, so one is refused.
    with ThreadPoolExecutor(max_workers=2) as pool:
        billing = list(pool.map(lambda pod: call(pod.url, new_session_id("app"), app="billing", slow=True), [a, b]))
    statuses = sorted(status for status, _, _ in billing)
    assert statuses == [200, 429], statuses
    status, headers, text = next(result for result in billing if result[0] == 429)
    message = json.loads(text)["error"]["message"]
    assert "App daily budget" in message and "billing" in message, message
    assert 0 < int(headers["retry-after"]) <= 86_400
    # Another app, and calls with no app id, are not held back by billing's budget.
    assert call(b.url, new_session_id("app"), app="search")[0] == 200
    assert call(a.url, new_session_id("app"))[0] == 200


def test_session_rate_limit_refuses_the_next_call_and_passes_after_the_window_slides(fleet: Fleet, tmp_path: Path):
    collector = fleet.collector(
        AGENTLEDGER_RATE_LIMIT_SESSION_RPM="3",
        # Tests only: a 2-second window stands in for the minute, so the slide is seen without waiting a minute.
        AGENTLEDGER_RATE_LIMIT_WINDOW_MS="2000",
    )
    pod = fleet.sidecar(collector.ingest_address)
    session = new_session_id("rpm")
    client = openai_client(pod.url, headers={"x-agentledger-session-id": session})
    started = time.monotonic()
    for index in range(3):
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": f"call {index}"}])
    with pytest.raises(openai.RateLimitError) as refused:
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "one too many"}])
    assert time.monotonic() - started < 2.0, "the machine was too slow to make four calls inside the window"
    response = refused.value.response
    assert response.json()["error"]["type"] == "rate_limit_exceeded"
    assert "Session rate limit of 3 requests" in response.json()["error"]["message"]
    assert session in response.json()["error"]["message"]
    assert 1 <= int(response.headers["retry-after"]) <= 2

    time.sleep(2.1)
    other = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "after the slide"}])
    assert other.choices[0].message.content

    records = session_records(collector, session, 5)
    assert [record["blocked"] for record in records].count(True) == 1
    assert collector.metrics().get("agentledger_refusals_total", 0) >= 1


def test_a_collector_restart_keeps_the_days_spend(fleet: Fleet, tmp_path: Path):
    dsn = sqlite_dsn(tmp_path, "restart.db")
    prices = pricing_file(tmp_path)
    morning = fleet.collector(dsn=dsn, AGENTLEDGER_PRICING_FILE=prices)
    pod = fleet.sidecar(morning.ingest_address)
    session = new_session_id("morning")
    for _ in range(5):
        status, _, text = call(pod.url, session)
        assert status == 200, text
    records = session_records(morning, session, 5)
    spent = sum(record["cost_usd"] for record in records)
    assert len(records) == 5 and spent > 0
    morning.process.stop()

    # Room for the morning's spend plus half a worst case: only a collector that remembers the morning refuses.
    afternoon = fleet.collector(
        dsn=dsn, AGENTLEDGER_PRICING_FILE=prices, AGENTLEDGER_ADMISSION_MODE="strict", AGENTLEDGER_BUDGET_DAILY=f"{spent + WORST_CASE / 2:.9f}"
    )
    pod.process.stop()
    pod = fleet.sidecar(afternoon.ingest_address, source="pod-a2")
    status, _, text = call(pod.url, new_session_id("afternoon"))
    assert status == 429, f"the morning's ${spent:.6f} was forgotten: {text[:300]}"
    assert "Daily budget" in json.loads(text)["error"]["message"]

    afternoon.process.stop()
    roomy = fleet.collector(
        dsn=dsn, AGENTLEDGER_PRICING_FILE=prices, AGENTLEDGER_ADMISSION_MODE="strict", AGENTLEDGER_BUDGET_DAILY=f"{spent + WORST_CASE * 2:.9f}"
    )
    pod.process.stop()
    pod = fleet.sidecar(roomy.ingest_address, source="pod-a3")
    status, _, text = call(pod.url, new_session_id("roomy"))
    assert status == 200, text


def test_no_budgets_means_no_admission_round_trip(fleet: Fleet):
    collector = fleet.collector()
    pod = fleet.sidecar(collector.ingest_address)
    status, _, _ = call(pod.url, new_session_id("free"))
    assert status == 200
    metrics = collector.metrics()
    assert metrics.get("agentledger_admissions_total", 0) == 0


def test_a_policy_file_gives_named_agents_their_own_budgets_across_two_sidecars(fleet: Fleet, tmp_path: Path):
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "# research may spend 3.5 worst cases a day, every other agent 1.5\n"
        "budgets:\n"
        f"  agent: {{'*': {WORST_CASE * 1.5:.6f}, research: {WORST_CASE * 3.5:.6f}}}\n"
        "rate_limits:\n"
        "  user: {vip: 2}\n"
    )
    collector = fleet.collector(
        dsn=sqlite_dsn(tmp_path, "policy.db"),
        AGENTLEDGER_PRICING_FILE=pricing_file(tmp_path),
        AGENTLEDGER_ADMISSION_MODE="strict",
        AGENTLEDGER_POLICY_FILE=str(policy),
    )
    a = fleet.sidecar(collector.ingest_address, source="pod-a")
    b = fleet.sidecar(collector.ingest_address, source="pod-b")
    pods = [a, b]

    # Slow calls sent together from both pods, so their reservations overlap: research fits three, writer one.
    with ThreadPoolExecutor(max_workers=6) as pool:
        research = pool.map(lambda index: call(pods[index % 2].url, new_session_id("r"), agent="research", slow=True), range(4))
        writer = pool.map(lambda index: call(pods[index % 2].url, new_session_id("w"), agent="writer", slow=True), range(2))
        research, writer = list(research), list(writer)
    assert sorted(status for status, _, _ in research) == [200, 200, 200, 429], [r[0] for r in research]
    assert sorted(status for status, _, _ in writer) == [200, 429], [r[0] for r in writer]
    message = json.loads(next(text for status, _, text in research if status == 429))["error"]["message"]
    assert f"Agent daily budget of ${WORST_CASE * 3.5:.4f}" in message and "research" in message, message
    message = json.loads(next(text for status, _, text in writer if status == 429))["error"]["message"]
    assert f"Agent daily budget of ${WORST_CASE * 1.5:.4f}" in message and "writer" in message, message

    # A named user's rate limit; other users have none.
    vip = [call(pods[index % 2].url, new_session_id("v"), user="vip")[0] for index in range(3)]
    assert vip == [200, 200, 429], vip
    assert call(a.url, new_session_id("n"), user="nobody")[0] == 200

    status, report = collector.get("/api/budgets")
    assert status == 200, report
    agent = report["budgets"][0]
    assert agent["scope"] == "agent" and agent["limit_usd"] == pytest.approx(WORST_CASE * 1.5) and agent["named_keys"] == 1
    limits = {key["key"]: key["limit_usd"] for key in agent["keys"]}
    assert limits["research"] == pytest.approx(WORST_CASE * 3.5) and limits["writer"] == pytest.approx(WORST_CASE * 1.5)
    (user,) = report["rate_limits"]
    assert user["scope"] == "user" and user["limit_requests"] is None
    assert [(key["key"], key["limit_requests"], key["requests"]) for key in user["keys"]] == [("vip", 2, 2)]
