"""What the collector API returns about recorded calls, and what never leaves the sidecar."""

from __future__ import annotations

import base64
import json
import uuid

from support import (
    API_KEY_ANTHROPIC,
    API_KEY_OPENAI,
    Ledger,
    anthropic_client,
    http_client,
    new_session_id,
    openai_client,
)

MODEL = "gpt-4o-mini"


def ask(ledger: Ledger, session_id: str, text: str, **extra_headers: str) -> str:
    """One OpenAI call through the proxy; returns its action id."""
    client = openai_client(ledger.base_url, {"x-agentledger-session-id": session_id, **extra_headers})
    raw = client.chat.completions.with_raw_response.create(model=MODEL, messages=[{"role": "user", "content": text}])
    return raw.headers["x-agentledger-action-id"]


def test_session_lists_calls_oldest_first_and_explain_finds_each(ledger: Ledger) -> None:
    session_id = new_session_id("records")
    action_ids = [ask(ledger, session_id, f"question number {index}") for index in range(3)]
    records = ledger.session_records(session_id, 3)
    assert [record["action_id"] for record in records] == action_ids
    assert [record["content"] for record in records] == [f"Echo: question number {index}" for index in range(3)]
    timestamps = [record["timestamp"] for record in records]
    assert timestamps == sorted(timestamps)

    with http_client() as client:
        for record in records:
            response = client.get(f"{ledger.base_url}/explain/{record['action_id']}")
            assert response.status_code == 200
            assert response.json()["action_id"] == record["action_id"]
        missing = client.get(f"{ledger.base_url}/explain/{uuid.uuid4()}")
        assert missing.status_code == 404
        assert "detail" in missing.json()
        unknown_session = client.get(f"{ledger.base_url}/session/{new_session_id('nobody')}")
        assert unknown_session.status_code == 404
        assert "detail" in unknown_session.json()

        sessions = client.get(f"{ledger.base_url}/api/sessions", params={"limit": 500})
        assert sessions.status_code == 200
        ours = [row for row in sessions.json() if row["session_id"] == session_id]
        assert len(ours) == 1
        assert ours[0]["call_count"] == 3
        assert ours[0]["total_cost_usd"] > 0


def test_metadata_headers_are_stored_and_never_forwarded(ledger: Ledger) -> None:
    session_id = new_session_id("meta")
    ask(
        ledger,
        session_id,
        "who am i",
        **{
            "x-agentledger-user-id": "user-42",
            "x-agenticledger-agent-name": "orchestrator",
            "x-agentledger-environment": "production",
            "x-agentledger-app-id": "app-1",
            "x-agentledger-api-key": "al-never-forward-this",
        },
    )
    seen = ledger.last_upstream_request()
    names = [name.lower() for name, _ in seen["headers"]]
    assert not [name for name in names if name.startswith(("x-agentledger-", "x-agenticledger-"))]
    assert dict((name.lower(), value) for name, value in seen["headers"])["authorization"] == f"Bearer {API_KEY_OPENAI}"
    assert json.loads(base64.b64decode(seen["body_base64"]))["messages"][0]["content"] == "who am i"

    [record] = ledger.session_records(session_id, 1)
    assert (record["user_id"], record["agent_name"]) == ("user-42", "orchestrator")
    assert (record["environment"], record["app_id"]) == ("production", "app-1")


def test_credentials_reach_the_upstream_but_are_never_stored(ledger: Ledger) -> None:
    session_id = new_session_id("creds")
    ask(ledger, session_id, "keep my secrets")
    anthropic_client(ledger.base_url, {"x-agentledger-session-id": session_id}).messages.create(
        model="claude-sonnet-4-5", max_tokens=32, messages=[{"role": "user", "content": "and mine"}]
    )
    seen = dict((name.lower(), value) for name, value in ledger.last_upstream_request()["headers"])
    # Anthropic SDKs send the key as `x-api-key` (1.x) or `authorization: Bearer` (2.x).
    assert API_KEY_ANTHROPIC in (seen.get("x-api-key"), seen.get("authorization", "").removeprefix("Bearer "))
    credentials = {"x-api-key": "xak-e2e-secret-1", "api-key": "ak-e2e-secret-2", "cookie": "sid=cookie-e2e-secret-3"}
    with http_client() as client:
        response = client.post(
            f"{ledger.base_url}/v1/messages",
            json={"model": "claude-sonnet-4-5", "max_tokens": 32, "messages": [{"role": "user", "content": "raw"}]},
            headers={"x-agentledger-session-id": session_id, "anthropic-version": "2023-06-01", **credentials},
        )
    assert response.status_code == 200
    seen = dict((name.lower(), value) for name, value in ledger.last_upstream_request()["headers"])
    assert {name: seen.get(name) for name in credentials} == credentials

    ledger.session_records(session_id, 3)
    stored = ledger.session_text(session_id)
    for secret in (API_KEY_OPENAI, API_KEY_ANTHROPIC, "xak-e2e-secret-1", "ak-e2e-secret-2", "cookie-e2e-secret-3"):
        assert secret not in stored
