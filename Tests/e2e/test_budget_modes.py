"""Budgets a fleet can run (docs/operations.md, "Budgets and rate limits"): the default `expected` admission mode,
its documented overshoot bound across two sidecars, unpriced models, and refusals the official SDKs do not retry.

Real `agentledger collector` and `agentledger sidecar` processes, the mock upstream (which echoes the prompt, so a
call's output tokens follow its prompt's length), and the official openai and anthropic SDKs.
"""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import anthropic
import openai

from distributed import Fleet, session_records
from support import API_KEY_ANTHROPIC, API_KEY_OPENAI, http_client, new_session_id

MODEL = "budget-modes-model"
OUTPUT_PRICE = 10.0  # USD per million output tokens; input is free, so a call costs its output only


def pricing_file(workdir: Path) -> str:
    path = workdir / "prices.json"
    path.write_text(json.dumps({"version": "e2e", "models": {MODEL: {"input": 0, "output": OUTPUT_PRICE}}}))
    return str(path)


def test_a_small_session_budget_admits_its_first_call(fleet: Fleet):
    """The case that made the worst case the wrong default: $0.002 for a session, gpt-4o-mini, no max_tokens. Its
    worst case (4,096 output tokens) is $0.0025; the call costs about $0.00002."""
    collector = fleet.collector(AGENTLEDGER_BUDGET_SESSION="0.002")
    sidecar = fleet.sidecar(collector.ingest_address)
    session = new_session_id("small")
    client = openai.OpenAI(
        base_url=f"{sidecar.url}/v1", api_key=API_KEY_OPENAI, timeout=30.0,
        default_headers={"x-agentledger-session-id": session},
    )
    reply = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    assert reply.choices[0].message.content

    strict = fleet.collector(AGENTLEDGER_BUDGET_SESSION="0.002", AGENTLEDGER_ADMISSION_MODE="strict")
    strict_sidecar = fleet.sidecar(strict.ingest_address, source="pod-strict")
    with http_client() as http:
        response = http.post(
            f"{strict_sidecar.url}/v1/chat/completions",
            headers={"authorization": f"Bearer {API_KEY_OPENAI}", "x-agentledger-session-id": new_session_id("strict")},
            json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]},
        )
    assert response.status_code == 429, response.text
    message = response.json()["error"]["message"]
    assert "A max_tokens of" in message and "or less would fit" in message, message


def test_two_sidecars_bursting_on_one_session_stay_within_the_documented_overshoot(fleet: Fleet, tmp_path: Path):
    """Expected mode reserves input plus 1,024 output tokens for a model it has no history of ($0.01024 here), not
    the $0.04 of `max_tokens`; with a $0.05 budget five calls fit before any settles. The spend stays below the
    documented bound L + w + (n - 1)(w - r), and every refused call is recorded as blocked."""
    limit, max_tokens = 0.05, 4000
    worst, reserved = max_tokens * OUTPUT_PRICE / 1e6, 1024 * OUTPUT_PRICE / 1e6
    collector = fleet.collector(AGENTLEDGER_PRICING_FILE=pricing_file(tmp_path), AGENTLEDGER_BUDGET_SESSION=str(limit))
    pods = [fleet.sidecar(collector.ingest_address, source=f"pod-{name}") for name in "ab"]
    session = new_session_id("burst")
    # About 3,000 characters echoed back: several hundred output tokens a call, a real share of the budget.
    prompt = "spend " * 500
    start = threading.Barrier(30)

    def one(index: int) -> int:
        headers = {
            "authorization": f"Bearer {API_KEY_OPENAI}", "x-agentledger-session-id": session, "x-mock-delay-ms": "300",
        }
        body = {"model": MODEL, "max_tokens": max_tokens, "stream": True, "messages": [{"role": "user", "content": prompt}]}
        with http_client(timeout=30.0) as client:
            start.wait(timeout=20)
            return client.post(f"{pods[index % 2].url}/v1/chat/completions", json=body, headers=headers).status_code

    with ThreadPoolExecutor(max_workers=30) as pool:
        statuses = list(pool.map(one, range(30)))
    admitted, refused = statuses.count(200), statuses.count(429)
    assert admitted + refused == 30, statuses
    # Headroom for five reservations at once; a call that settles early frees its unused reservation for one more.
    assert 5 <= admitted <= 10, f"admitted {admitted} of 30\n{fleet.logs()}"

    records = session_records(collector, session, 30)
    assert len(records) == 30, f"{len(records)} of 30 recorded\n{fleet.logs()}"
    assert sum(record["blocked"] for record in records) == refused
    spent = sum(record["cost_usd"] or 0 for record in records if not record["blocked"])
    bound = limit + worst + (admitted - 1) * (worst - reserved)
    assert 0 < spent <= bound, f"spent ${spent:.6f}, bound ${bound:.6f}"
    status, sessions = collector.get("/api/sessions")
    summary = next(row for row in sessions if row["session_id"] == session)
    assert summary["total_cost_usd"] == round(spent, 10), "the session total is the exact decimal sum of its calls"
    assert summary["unpriced_calls"] == 0


def test_the_official_sdks_do_not_retry_a_budget_refusal(fleet: Fleet):
    """Both SDKs retry a 429 twice by default; `x-should-retry: false` stops them: one refusal, one blocked record,
    no backoff wait. The Anthropic SDK reads its own error envelope."""
    collector = fleet.collector(AGENTLEDGER_BUDGET_SESSION="0")
    sidecar = fleet.sidecar(collector.ingest_address)

    session = new_session_id("sdk-openai")
    client = openai.OpenAI(
        base_url=f"{sidecar.url}/v1", api_key=API_KEY_OPENAI, timeout=30.0,
        default_headers={"x-agentledger-session-id": session},
    )
    started = time.monotonic()
    try:
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
        raise AssertionError("a zero budget admitted a call")
    except openai.RateLimitError as error:
        assert error.response.headers["x-should-retry"] == "false"
        assert error.body["type"] == "budget_exceeded" and error.body["code"] == "budget_exceeded"
    assert time.monotonic() - started < 1.0, "the SDK waited to retry"
    assert len(session_records(collector, session, 1)) == 1
    time.sleep(0.5)
    assert len(session_records(collector, session, 1)) == 1, "the SDK retried the refusal"

    session = new_session_id("sdk-anthropic")
    client = anthropic.Anthropic(
        base_url=sidecar.url, api_key=API_KEY_ANTHROPIC, timeout=30.0,
        default_headers={"x-agentledger-session-id": session},
    )
    started = time.monotonic()
    try:
        client.messages.create(
            model="claude-haiku-4-5", max_tokens=100, messages=[{"role": "user", "content": "hi"}]
        )
        raise AssertionError("a zero budget admitted a call")
    except anthropic.RateLimitError as error:
        assert error.body["type"] == "error"
        assert error.body["error"]["type"] == "budget_exceeded"
        assert "Session budget" in error.body["error"]["message"]
    assert time.monotonic() - started < 1.0, "the SDK waited to retry"
    time.sleep(0.5)
    records = session_records(collector, session, 1)
    assert len(records) == 1 and records[0]["blocked"], records


def test_unpriced_models_follow_the_configured_rule(fleet: Fleet):
    """`refuse` keeps an unpriced model out from under a budget; the default admits it and says so once in the log."""
    strict = fleet.collector(AGENTLEDGER_BUDGET_SESSION="1", AGENTLEDGER_UNPRICED_MODELS="refuse")
    sidecar = fleet.sidecar(strict.ingest_address)
    body = {"model": "my-llama-70b", "messages": [{"role": "user", "content": "hi"}]}
    headers = {"authorization": f"Bearer {API_KEY_OPENAI}", "x-agentledger-session-id": new_session_id("unpriced")}
    with http_client() as http:
        response = http.post(f"{sidecar.url}/v1/chat/completions", json=body, headers=headers)
    assert response.status_code == 429, response.text
    assert "has no known price" in response.json()["error"]["message"]

    lenient = fleet.collector(AGENTLEDGER_BUDGET_SESSION="1")
    sidecar = fleet.sidecar(lenient.ingest_address, source="pod-lenient")
    session = new_session_id("unpriced-admitted")
    headers["x-agentledger-session-id"] = session
    with http_client() as http:
        for _ in range(3):
            assert http.post(f"{sidecar.url}/v1/chat/completions", json=body, headers=headers).status_code == 200
        assert http.post(
            f"{sidecar.url}/v1/chat/completions", json={**body, "model": "gpt-4o-mini"}, headers=headers
        ).status_code == 200
    assert len(session_records(lenient, session, 4)) == 4
    status, sessions = lenient.get("/api/sessions")
    summary = next(row for row in sessions if row["session_id"] == session)
    assert summary["unpriced_calls"] == 3 and summary["call_count"] == 4
    assert summary["total_cost_usd"] > 0
    deadline = time.monotonic() + 5
    for _ in range(50):
        if "model has no known price" in lenient.log_tail(200) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert lenient.log_tail(200).count("model has no known price") == 1, lenient.log_tail(40)
