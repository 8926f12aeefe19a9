"""Paths that are only forwarded, body limits, and bodies that are not what they claim to be."""

from __future__ import annotations

import json
import random

from support import API_KEY_OPENAI, Ledger, http_client, new_session_id

CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "pass me through"}]}


def test_uncaptured_get_passes_through_and_is_not_recorded(ledger: Ledger) -> None:
    session_id = new_session_id("models")
    tagged = {"x-agentledger-session-id": session_id, "authorization": f"Bearer {API_KEY_OPENAI}"}
    with http_client() as client:
        proxied = client.get(f"{ledger.base_url}/v1/models", headers=tagged)
        direct = client.get(f"{ledger.upstream_url}/v1/models")
        assert (proxied.status_code, proxied.content) == (direct.status_code, direct.content)
        assert proxied.headers["content-type"] == direct.headers["content-type"]
        assert "x-agentledger-action-id" not in proxied.headers
        # A captured call after it: once that one is stored, the earlier one would have been too.
        captured = client.post(f"{ledger.base_url}/v1/chat/completions", json=CHAT, headers=tagged)
        assert captured.status_code == 200
    records = ledger.session_records(session_id, 1)
    assert len(records) == 1
    assert records[0]["action_id"] == captured.headers["x-agentledger-action-id"]


def test_binary_body_round_trips_byte_exact(ledger: Ledger) -> None:
    payload = bytes(range(256)) + random.Random(7).randbytes(300_000)
    with http_client() as client:
        response = client.post(
            f"{ledger.base_url}/v1/echo", content=payload, headers={"content-type": "application/octet-stream"}
        )
    assert response.status_code == 200
    assert response.content == payload
    assert response.headers["content-type"] == "application/octet-stream"


def test_body_over_the_limit_is_refused_with_413(small_body_ledger: Ledger) -> None:
    padding = "x" * (2 * 1024 * 1024)
    body = json.dumps({**CHAT, "messages": [{"role": "user", "content": padding}]}).encode()
    with http_client() as client:
        marker = client.post(f"{small_body_ledger.upstream_url}/v1/echo", content=b"marker")
        assert marker.status_code == 200
        response = client.post(
            f"{small_body_ledger.base_url}/v1/chat/completions",
            content=body,
            headers={"content-type": "application/json"},
        )
    assert response.status_code == 413
    assert small_body_ledger.last_upstream_request()["path"] == "/v1/echo", "a refused body reached the upstream"


def test_unparseable_request_is_forwarded_and_recorded(ledger: Ledger) -> None:
    session_id = new_session_id("badjson")
    with http_client() as client:
        proxied = client.post(
            f"{ledger.base_url}/v1/chat/completions",
            content=b"{not json",
            headers={"content-type": "application/json", "x-agentledger-session-id": session_id},
        )
        direct = client.post(
            f"{ledger.upstream_url}/v1/chat/completions", content=b"{not json", headers={"content-type": "application/json"}
        )
    assert proxied.status_code == direct.status_code == 400
    assert proxied.content == direct.content
    [record] = ledger.session_records(session_id, 1)
    assert record["status_code"] == 400


def test_malformed_upstream_answer_passes_through_and_is_recorded(ledger: Ledger) -> None:
    session_id = new_session_id("malformed")
    with http_client() as client:
        response = client.post(
            f"{ledger.base_url}/v1/chat/completions",
            json=CHAT,
            headers={"x-agentledger-session-id": session_id, "x-mock-scenario": "malformed"},
        )
    assert (response.status_code, response.content) == (200, b"this is not json")
    [record] = ledger.session_records(session_id, 1)
    assert record["status_code"] == 200
