"""OpenAI chat completions through `agentledger up`: transparent to the SDK, and recorded."""

from __future__ import annotations

import json
import uuid

import openai
import pytest

from support import API_KEY_OPENAI, Ledger, new_session_id, openai_client, sse_json, stream_raw

MODEL = "gpt-4o-mini"
MESSAGES = [
    {"role": "system", "content": "You are a terse assistant."},
    {"role": "user", "content": "What is the capital of France?"},
]
EXPECTED_TEXT = "Echo: What is the capital of France?"


def headers(session_id: str, **extra: str) -> dict[str, str]:
    return {"x-agentledger-session-id": session_id, **extra}


def test_plain_call_is_byte_identical_and_recorded(ledger: Ledger) -> None:
    session_id = new_session_id("oa-plain")
    proxied_client = openai_client(
        ledger.base_url,
        headers(session_id, **{"x-agentledger-agent-name": "researcher", "x-agentledger-user-id": "user-7"}),
    )
    arguments = dict(model=MODEL, messages=MESSAGES, temperature=0.2, max_tokens=64)
    proxied = proxied_client.chat.completions.with_raw_response.create(**arguments)
    direct = openai_client(ledger.upstream_url).chat.completions.with_raw_response.create(**arguments)

    assert proxied.status_code == direct.status_code == 200
    assert proxied.content == direct.content
    assert proxied.headers["content-type"] == direct.headers["content-type"]
    completion = proxied.parse()
    assert completion.choices[0].message.content == EXPECTED_TEXT
    action_id = proxied.headers["x-agentledger-action-id"]
    assert str(uuid.UUID(action_id)) == action_id.lower()
    assert proxied.headers["x-agentledger-session-id"] == session_id

    [record] = ledger.session_records(session_id, 1)
    assert record["action_id"] == action_id
    assert record["session_id"] == session_id
    assert (record["provider"], record["model_id"]) == ("openai", MODEL)
    assert record["content"] == EXPECTED_TEXT
    assert record["tokens_in"] == completion.usage.prompt_tokens
    assert record["tokens_out"] == completion.usage.completion_tokens
    assert record["cost_usd"] is not None and record["cost_usd"] > 0
    assert record["status_code"] == 200
    assert record["stream"] is False
    assert record["stop_reason"] == "stop"
    assert (record["agent_name"], record["user_id"]) == ("researcher", "user-7")
    assert record["environment"] == "development"
    assert record["temperature"] == pytest.approx(0.2)
    assert record["max_tokens"] == 64
    assert record["blocked"] is False
    assert record["tool_calls"] in (None, [])
    assert record["latency_ms"] is not None and record["latency_ms"] >= 0


def test_stream_is_byte_identical_and_recorded(ledger: Ledger) -> None:
    session_id = new_session_id("oa-stream")
    proxied_client = openai_client(ledger.base_url, headers(session_id))
    direct_client = openai_client(ledger.upstream_url)

    proxied_chunks = [chunk.model_dump() for chunk in proxied_client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True)]
    direct_chunks = [chunk.model_dump() for chunk in direct_client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True)]
    assert proxied_chunks == direct_chunks
    assert "".join(chunk["choices"][0]["delta"]["content"] or "" for chunk in proxied_chunks if chunk["choices"]) == EXPECTED_TEXT
    assert all(chunk["usage"] is None for chunk in proxied_chunks), "the usage chunk the sidecar asked for leaked to the client"

    body = {"model": MODEL, "messages": MESSAGES, "stream": True}
    auth = {"authorization": f"Bearer {API_KEY_OPENAI}"}
    proxied_raw = stream_raw(f"{ledger.base_url}/v1/chat/completions", body, {**auth, **headers(session_id)})
    direct_raw = stream_raw(f"{ledger.upstream_url}/v1/chat/completions", body, auth)
    assert proxied_raw == direct_raw

    usage = direct_client.chat.completions.create(model=MODEL, messages=MESSAGES).usage
    records = ledger.session_records(session_id, 2)
    assert len(records) == 2
    for record in records:
        assert record["stream"] is True
        assert record["content"] == EXPECTED_TEXT
        assert record["status_code"] == 200
        assert record["ttft_ms"] is not None and record["ttft_ms"] >= 0
        assert record["latency_ms"] >= record["ttft_ms"]
        assert (record["tokens_in"], record["tokens_out"]) == (usage.prompt_tokens, usage.completion_tokens)
        assert record["cost_usd"] is not None and record["cost_usd"] > 0


def test_stream_with_client_usage_keeps_the_usage_chunk(ledger: Ledger) -> None:
    session_id = new_session_id("oa-usage")
    body = {"model": MODEL, "messages": MESSAGES, "stream": True, "stream_options": {"include_usage": True}}
    proxied_raw = stream_raw(f"{ledger.base_url}/v1/chat/completions", body, headers(session_id))
    direct_raw = stream_raw(f"{ledger.upstream_url}/v1/chat/completions", body, {})
    assert proxied_raw == direct_raw
    usage = sse_json(proxied_raw)[-1]["usage"]
    [record] = ledger.session_records(session_id, 1)
    assert (record["tokens_in"], record["tokens_out"]) == (usage["prompt_tokens"], usage["completion_tokens"])


def collect_tool_calls(client: openai.OpenAI) -> list[dict]:
    calls: dict[int, dict] = {}
    for chunk in client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True):
        for delta in (chunk.choices[0].delta.tool_calls or []) if chunk.choices else []:
            call = calls.setdefault(delta.index, {"id": None, "name": None, "arguments": ""})
            call["id"] = delta.id or call["id"]
            call["name"] = (delta.function.name if delta.function else None) or call["name"]
            call["arguments"] += (delta.function.arguments if delta.function else None) or ""
    return [calls[index] for index in sorted(calls)]


def test_tool_calls_plain_and_streamed(ledger: Ledger) -> None:
    session_id = new_session_id("oa-tools")
    scenario = {"x-mock-scenario": "tool_call"}
    proxied_client = openai_client(ledger.base_url, headers(session_id, **scenario))
    direct_client = openai_client(ledger.upstream_url, scenario)

    proxied = proxied_client.chat.completions.with_raw_response.create(model=MODEL, messages=MESSAGES)
    direct = direct_client.chat.completions.with_raw_response.create(model=MODEL, messages=MESSAGES)
    assert proxied.content == direct.content
    message = proxied.parse().choices[0].message
    expected = [{"id": call.id, "name": call.function.name, "arguments": call.function.arguments} for call in message.tool_calls]
    assert [call["name"] for call in expected] == ["get_weather", "get_time"]

    streamed = collect_tool_calls(proxied_client)
    assert streamed == collect_tool_calls(direct_client) == expected

    records = ledger.session_records(session_id, 2)
    for record, stream in zip(records, (False, True)):
        assert record["stream"] is stream
        assert record["stop_reason"] == "tool_calls"
        assert [{key: call[key] for key in ("id", "name", "arguments")} for call in record["tool_calls"]] == expected
        for call in record["tool_calls"]:
            assert isinstance(call["arguments"], str)
            json.loads(call["arguments"])


@pytest.mark.parametrize(
    ("scenario", "error_type", "status"),
    [("error_400", openai.BadRequestError, 400), ("error_500", openai.InternalServerError, 500)],
)
def test_errors_surface_like_direct_and_are_recorded(
    ledger: Ledger, scenario: str, error_type: type, status: int
) -> None:
    session_id = new_session_id(f"oa-{scenario}")
    with pytest.raises(error_type) as proxied:
        openai_client(ledger.base_url, headers(session_id, **{"x-mock-scenario": scenario})).chat.completions.create(
            model=MODEL, messages=MESSAGES
        )
    with pytest.raises(error_type) as direct:
        openai_client(ledger.upstream_url, {"x-mock-scenario": scenario}).chat.completions.create(model=MODEL, messages=MESSAGES)
    assert proxied.value.status_code == direct.value.status_code == status
    assert proxied.value.message == direct.value.message
    assert proxied.value.body == direct.value.body
    [record] = ledger.session_records(session_id, 1)
    assert record["status_code"] == status
    assert record["error_detail"]


def test_cache_and_reasoning_tokens(ledger: Ledger) -> None:
    session_id = new_session_id("oa-cache")
    cached = openai_client(ledger.base_url, headers(session_id, **{"x-mock-scenario": "cache"})).chat.completions.create(
        model=MODEL, messages=MESSAGES
    )
    reasoning = openai_client(
        ledger.base_url, headers(session_id, **{"x-mock-scenario": "reasoning"})
    ).chat.completions.create(model=MODEL, messages=MESSAGES)
    first, second = ledger.session_records(session_id, 2)
    assert first["tokens_cache_read"] == 1024
    assert first["tokens_in"] == cached.usage.prompt_tokens
    assert second["tokens_reasoning"] == 64
    assert second["tokens_out"] == reasoning.usage.completion_tokens


def test_stream_cut_midway_reaches_the_client_and_is_recorded(ledger: Ledger) -> None:
    session_id = new_session_id("oa-cut")
    scenario = {"x-mock-scenario": "midstream_error"}
    with pytest.raises(Exception):
        list(openai_client(ledger.upstream_url, scenario).chat.completions.create(model=MODEL, messages=MESSAGES, stream=True))
    with pytest.raises(Exception):
        list(
            openai_client(ledger.base_url, headers(session_id, **scenario)).chat.completions.create(
                model=MODEL, messages=MESSAGES, stream=True
            )
        )
    [record] = ledger.session_records(session_id, 1)
    assert record["stream"] is True
