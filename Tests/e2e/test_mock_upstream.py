"""The mock upstream alone: deterministic answers in the providers' real shapes (no proxy involved)."""

from __future__ import annotations

import base64
import json

import anthropic
import httpx
import openai
import pytest

from support import API_KEY_OPENAI, anthropic_client, http_client, openai_client, sse_events, sse_json, stream_raw

CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello there mock"}]}
MESSAGES = {"model": "claude-sonnet-4-5", "max_tokens": 64, "messages": [{"role": "user", "content": "hello there mock"}]}


def post(url: str, body: dict | bytes, **headers: str) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    with http_client() as client:
        return client.post(url, content=content, headers={"content-type": "application/json", **headers})


def test_same_request_gives_same_bytes(upstream_url: str) -> None:
    first = post(f"{upstream_url}/v1/chat/completions", CHAT)
    second = post(f"{upstream_url}/v1/chat/completions", json.dumps(CHAT, indent=2).encode())
    assert first.status_code == 200
    assert first.content == second.content
    body = first.json()
    assert body["id"].startswith("chatcmpl-")
    assert body["model"] == "gpt-4o-mini"
    assert body["choices"][0]["message"] == {"role": "assistant", "content": "Echo: hello there mock", "refusal": None}
    usage = body["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert usage["prompt_tokens_details"]["cached_tokens"] == 0


def test_openai_sdk_reads_plain_and_streamed_answers(upstream_url: str) -> None:
    client = openai_client(upstream_url)
    completion = client.chat.completions.create(**CHAT)
    assert completion.choices[0].message.content == "Echo: hello there mock"
    chunks = list(client.chat.completions.create(**CHAT, stream=True, stream_options={"include_usage": True}))
    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
    assert text == "Echo: hello there mock"
    assert chunks[-1].choices == []
    assert chunks[-1].usage.prompt_tokens == completion.usage.prompt_tokens
    assert chunks[-1].usage.completion_tokens == completion.usage.completion_tokens


def test_openai_stream_has_usage_chunk_only_when_asked(upstream_url: str) -> None:
    plain = stream_raw(f"{upstream_url}/v1/chat/completions", {**CHAT, "stream": True}, {})
    with_usage = stream_raw(
        f"{upstream_url}/v1/chat/completions", {**CHAT, "stream": True, "stream_options": {"include_usage": True}}, {}
    )
    assert plain.endswith(b"data: [DONE]\n\n")
    assert all("usage" not in chunk for chunk in sse_json(plain))
    assert "usage" in sse_json(with_usage)[-1]
    assert len(sse_events(with_usage)) == len(sse_events(plain)) + 1


def test_openai_tool_calls(upstream_url: str) -> None:
    client = openai_client(upstream_url, {"x-mock-scenario": "tool_call"})
    message = client.chat.completions.create(**CHAT).choices[0].message
    assert [call.function.name for call in message.tool_calls] == ["get_weather", "get_time"]
    assert json.loads(message.tool_calls[0].function.arguments) == {"city": "Paris", "unit": "celsius"}
    arguments: dict[int, str] = {}
    for chunk in client.chat.completions.create(**CHAT, stream=True):
        for delta in (chunk.choices[0].delta.tool_calls or []) if chunk.choices else []:
            arguments[delta.index] = arguments.get(delta.index, "") + (delta.function.arguments or "")
    assert [arguments[0], arguments[1]] == [call.function.arguments for call in message.tool_calls]


@pytest.mark.parametrize(
    ("scenario", "error_type", "status"),
    [
        ("error_400", openai.BadRequestError, 400),
        ("error_429", openai.RateLimitError, 429),
        ("error_500", openai.InternalServerError, 500),
    ],
)
def test_openai_error_scenarios(upstream_url: str, scenario: str, error_type: type, status: int) -> None:
    with pytest.raises(error_type) as caught:
        openai_client(upstream_url, {"x-mock-scenario": scenario}).chat.completions.create(**CHAT)
    assert caught.value.status_code == status
    assert scenario in caught.value.message


def test_anthropic_sdk_reads_plain_and_streamed_answers(upstream_url: str) -> None:
    client = anthropic_client(upstream_url)
    message = client.messages.create(**MESSAGES)
    assert message.content[0].text == "Echo: hello there mock"
    assert message.stop_reason == "end_turn"
    with client.messages.stream(**MESSAGES) as stream:
        final = stream.get_final_message()
    assert final.content[0].text == "Echo: hello there mock"
    assert final.usage.output_tokens == message.usage.output_tokens
    assert final.usage.input_tokens == message.usage.input_tokens


def test_anthropic_tool_use_and_cache(upstream_url: str) -> None:
    client = anthropic_client(upstream_url, {"x-mock-scenario": "tool_call"})
    message = client.messages.create(**MESSAGES)
    assert [block.type for block in message.content] == ["text", "tool_use", "tool_use"]
    assert message.content[1].input == {"city": "Paris", "unit": "celsius"}
    with client.messages.stream(**MESSAGES) as stream:
        final = stream.get_final_message()
    assert [block.model_dump() for block in final.content] == [block.model_dump() for block in message.content]
    cached = anthropic_client(upstream_url, {"x-mock-scenario": "cache"}).messages.create(**MESSAGES)
    assert (cached.usage.cache_read_input_tokens, cached.usage.cache_creation_input_tokens) == (2048, 512)


def test_anthropic_midstream_error_event(upstream_url: str) -> None:
    client = anthropic_client(upstream_url, {"x-mock-scenario": "midstream_error"})
    with pytest.raises(anthropic.APIError, match="Overloaded"):
        list(client.messages.create(**MESSAGES, stream=True))


def test_openai_midstream_error_drops_the_connection(upstream_url: str) -> None:
    with http_client() as client:
        with client.stream(
            "POST", f"{upstream_url}/v1/chat/completions", json={**CHAT, "stream": True},
            headers={"x-mock-scenario": "midstream_error"},
        ) as response:
            with pytest.raises(httpx.RemoteProtocolError):
                b"".join(response.iter_raw())


def test_malformed_scenario_and_unparseable_request(upstream_url: str) -> None:
    malformed = post(f"{upstream_url}/v1/chat/completions", CHAT, **{"x-mock-scenario": "malformed"})
    assert (malformed.status_code, malformed.content) == (200, b"this is not json")
    bad = post(f"{upstream_url}/v1/chat/completions", b"{not json")
    assert bad.status_code == 400
    assert bad.json()["error"]["type"] == "invalid_request_error"


def test_last_request_shows_headers_and_body(upstream_url: str) -> None:
    post(f"{upstream_url}/v1/chat/completions", CHAT, authorization=f"Bearer {API_KEY_OPENAI}")
    with http_client() as client:
        last = client.get(f"{upstream_url}/debug/last-request").json()
    assert (last["method"], last["path"]) == ("POST", "/v1/chat/completions")
    headers = {name.lower(): value for name, value in last["headers"]}
    assert headers["authorization"] == f"Bearer {API_KEY_OPENAI}"
    assert json.loads(base64.b64decode(last["body_base64"])) == CHAT


def test_echo_round_trips_binary(upstream_url: str) -> None:
    payload = bytes(range(256)) * 64
    with http_client() as client:
        response = client.post(f"{upstream_url}/v1/echo", content=payload, headers={"content-type": "application/x-e2e"})
    assert response.content == payload
    assert response.headers["content-type"] == "application/x-e2e"
