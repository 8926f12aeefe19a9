"""Anthropic messages through `agentledger up`: transparent to the SDK, and recorded."""

from __future__ import annotations

import json
import uuid

import anthropic
import pytest

from support import API_KEY_ANTHROPIC, Ledger, anthropic_client, new_session_id, stream_raw

MODEL = "claude-sonnet-4-5"
ARGUMENTS = dict(
    model=MODEL,
    max_tokens=256,
    system="You are a terse assistant.",
    messages=[{"role": "user", "content": "Name three primary colors."}],
)
EXPECTED_TEXT = "Echo: Name three primary colors."


def headers(session_id: str, **extra: str) -> dict[str, str]:
    return {"x-agentledger-session-id": session_id, **extra}


def expected_tokens_in(usage: anthropic.types.Usage) -> int:
    return usage.input_tokens + (usage.cache_read_input_tokens or 0) + (usage.cache_creation_input_tokens or 0)


def test_plain_call_is_byte_identical_and_recorded(ledger: Ledger) -> None:
    session_id = new_session_id("an-plain")
    proxied = anthropic_client(
        ledger.base_url, headers(session_id, **{"x-agentledger-agent-name": "writer", "x-agentledger-user-id": "user-9"})
    ).messages.with_raw_response.create(**ARGUMENTS)
    direct = anthropic_client(ledger.upstream_url).messages.with_raw_response.create(**ARGUMENTS)

    assert proxied.status_code == direct.status_code == 200
    assert proxied.read() == direct.read()
    message = proxied.parse()
    assert message.content[0].text == EXPECTED_TEXT
    action_id = proxied.headers["x-agentledger-action-id"]
    uuid.UUID(action_id)
    assert proxied.headers["x-agentledger-session-id"] == session_id

    [record] = ledger.session_records(session_id, 1)
    assert record["action_id"] == action_id
    assert (record["provider"], record["model_id"]) == ("anthropic", MODEL)
    assert record["content"] == EXPECTED_TEXT
    assert record["system_prompt"] == "You are a terse assistant."
    assert record["tokens_in"] == expected_tokens_in(message.usage)
    assert record["tokens_out"] == message.usage.output_tokens
    assert record["cost_usd"] is not None and record["cost_usd"] > 0
    assert (record["status_code"], record["stream"], record["stop_reason"]) == (200, False, "end_turn")
    assert (record["agent_name"], record["user_id"], record["environment"]) == ("writer", "user-9", "development")
    assert record["max_tokens"] == 256


def test_stream_is_byte_identical_and_recorded(ledger: Ledger) -> None:
    session_id = new_session_id("an-stream")
    proxied_client = anthropic_client(ledger.base_url, headers(session_id))
    direct_client = anthropic_client(ledger.upstream_url)

    proxied_events = [event.model_dump() for event in proxied_client.messages.create(**ARGUMENTS, stream=True)]
    direct_events = [event.model_dump() for event in direct_client.messages.create(**ARGUMENTS, stream=True)]
    assert proxied_events == direct_events
    with proxied_client.messages.stream(**ARGUMENTS) as stream:
        final = stream.get_final_message()
    assert final.content[0].text == EXPECTED_TEXT

    body = {**ARGUMENTS, "stream": True}
    auth = {"x-api-key": API_KEY_ANTHROPIC, "anthropic-version": "2023-06-01"}
    proxied_raw = stream_raw(f"{ledger.base_url}/v1/messages", body, {**auth, **headers(session_id)})
    direct_raw = stream_raw(f"{ledger.upstream_url}/v1/messages", body, auth)
    assert proxied_raw == direct_raw

    usage = direct_client.messages.create(**ARGUMENTS).usage
    records = ledger.session_records(session_id, 3)
    assert len(records) == 3
    for record in records:
        assert record["stream"] is True
        assert record["content"] == EXPECTED_TEXT
        assert record["ttft_ms"] is not None and record["ttft_ms"] >= 0
        assert (record["tokens_in"], record["tokens_out"]) == (expected_tokens_in(usage), usage.output_tokens)
        assert record["cost_usd"] is not None and record["cost_usd"] > 0


def test_tool_use_plain_and_streamed(ledger: Ledger) -> None:
    session_id = new_session_id("an-tools")
    scenario = {"x-mock-scenario": "tool_call"}
    proxied_client = anthropic_client(ledger.base_url, headers(session_id, **scenario))
    direct_client = anthropic_client(ledger.upstream_url, scenario)

    proxied = proxied_client.messages.with_raw_response.create(**ARGUMENTS)
    assert proxied.read() == direct_client.messages.with_raw_response.create(**ARGUMENTS).read()
    message = proxied.parse()
    tool_uses = [block for block in message.content if block.type == "tool_use"]
    assert [block.name for block in tool_uses] == ["get_weather", "get_time"]
    with proxied_client.messages.stream(**ARGUMENTS) as stream:
        streamed = stream.get_final_message()
    assert [block.model_dump() for block in streamed.content] == [block.model_dump() for block in message.content]

    records = ledger.session_records(session_id, 2)
    for record, is_stream in zip(records, (False, True)):
        assert record["stream"] is is_stream
        assert record["stop_reason"] == "tool_use"
        assert record["content"] == message.content[0].text
        assert [(call["id"], call["name"]) for call in record["tool_calls"]] == [(block.id, block.name) for block in tool_uses]
        assert [json.loads(call["arguments"]) for call in record["tool_calls"]] == [block.input for block in tool_uses]


@pytest.mark.parametrize(
    ("scenario", "error_type", "status"),
    [("error_400", anthropic.BadRequestError, 400), ("error_500", anthropic.InternalServerError, 500)],
)
def test_errors_surface_like_direct_and_are_recorded(
    ledger: Ledger, scenario: str, error_type: type, status: int
) -> None:
    session_id = new_session_id(f"an-{scenario}")
    with pytest.raises(error_type) as proxied:
        anthropic_client(ledger.base_url, headers(session_id, **{"x-mock-scenario": scenario})).messages.create(**ARGUMENTS)
    with pytest.raises(error_type) as direct:
        anthropic_client(ledger.upstream_url, {"x-mock-scenario": scenario}).messages.create(**ARGUMENTS)
    assert proxied.value.status_code == direct.value.status_code == status
    assert proxied.value.message == direct.value.message
    assert proxied.value.body == direct.value.body
    [record] = ledger.session_records(session_id, 1)
    assert record["status_code"] == status
    assert record["error_detail"]


def test_cache_tokens(ledger: Ledger) -> None:
    session_id = new_session_id("an-cache")
    message = anthropic_client(ledger.base_url, headers(session_id, **{"x-mock-scenario": "cache"})).messages.create(**ARGUMENTS)
    [record] = ledger.session_records(session_id, 1)
    assert (record["tokens_cache_read"], record["tokens_cache_write"]) == (2048, 512)
    assert record["tokens_in"] == message.usage.input_tokens + 2048 + 512
    assert record["cost_usd"] is not None and record["cost_usd"] > 0


def test_error_event_midstream_reaches_the_client_and_is_recorded(ledger: Ledger) -> None:
    session_id = new_session_id("an-cut")
    scenario = {"x-mock-scenario": "midstream_error"}
    with pytest.raises(anthropic.APIError) as direct:
        list(anthropic_client(ledger.upstream_url, scenario).messages.create(**ARGUMENTS, stream=True))
    with pytest.raises(anthropic.APIError) as proxied:
        list(anthropic_client(ledger.base_url, headers(session_id, **scenario)).messages.create(**ARGUMENTS, stream=True))
    assert proxied.value.message == direct.value.message
    [record] = ledger.session_records(session_id, 1)
    assert record["stream"] is True
