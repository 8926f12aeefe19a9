"""The OpenAI Responses API (`client.responses`) through `agentledger up` and the mock upstream: transparent to
the official SDK, plain and streamed, and recorded with its instructions, tool calls and tool results."""

from __future__ import annotations

import json

from support import Ledger, new_session_id, openai_client

MODEL = "gpt-4o-mini"
QUESTION = "What is the capital of France?"
EXPECTED_TEXT = f"Echo: {QUESTION}"
WEATHER_TOOL = {
    "type": "function",
    "name": "get_weather",
    "description": "Weather of a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


def test_plain_and_streamed_responses_are_identical_and_recorded(ledger: Ledger) -> None:
    session_id = new_session_id("oa-responses")
    client = openai_client(ledger.base_url, {"x-agentledger-session-id": session_id})
    arguments = dict(model=MODEL, instructions="Be terse.", input=QUESTION, max_output_tokens=64)

    proxied = client.responses.with_raw_response.create(**arguments)
    direct = openai_client(ledger.upstream_url).responses.with_raw_response.create(**arguments)
    assert proxied.status_code == direct.status_code == 200
    assert proxied.content == direct.content
    plain = proxied.parse()
    assert plain.output_text == EXPECTED_TEXT

    events = list(client.responses.create(**arguments, stream=True))
    assert events[0].type == "response.created"
    assert events[-1].type == "response.completed"
    assert "".join(event.delta for event in events if event.type == "response.output_text.delta") == EXPECTED_TEXT

    with client.responses.stream(**arguments) as stream:
        final = stream.get_final_response()
    assert final.output_text == EXPECTED_TEXT

    records = ledger.session_records(session_id, 3)
    assert [record["stream"] for record in records] == [False, True, True]
    for record in records:
        assert (record["provider"], record["model_id"]) == ("openai", MODEL)
        assert record["system_prompt"] == "Be terse."
        assert [message.get("role") for message in record["messages"]] == ["system", "user"]
        assert record["content"] == EXPECTED_TEXT
        assert record["stop_reason"] == "completed"
        assert (record["tokens_in"], record["tokens_out"]) == (plain.usage.input_tokens, plain.usage.output_tokens)
        assert record["max_tokens"] == 64
        assert record["cost_usd"] is not None and record["cost_usd"] > 0
        assert record["error_detail"] is None


def test_tool_calls_and_their_results_are_recorded(ledger: Ledger) -> None:
    session_id = new_session_id("oa-responses-tools")
    session = {"x-agentledger-session-id": session_id}
    tools_client = openai_client(ledger.base_url, {**session, "x-mock-scenario": "tool_call"})
    question = [{"role": "user", "content": [{"type": "input_text", "text": "Weather and time in Paris?"}]}]

    first = tools_client.responses.create(model=MODEL, input=question, tools=[WEATHER_TOOL])
    calls = [item for item in first.output if item.type == "function_call"]
    assert [call.name for call in calls] == ["get_weather", "get_time"]
    streamed = list(tools_client.responses.create(model=MODEL, input=question, tools=[WEATHER_TOOL], stream=True))
    assert streamed[-1].response.output[0].call_id == calls[0].call_id

    follow_up = question + [item.model_dump(exclude_none=True) for item in first.output]
    follow_up += [{"type": "function_call_output", "call_id": call.call_id, "output": "18C"} for call in calls]
    answer = openai_client(ledger.base_url, session).responses.create(model=MODEL, input=follow_up, tools=[WEATHER_TOOL])
    assert answer.output_text.startswith("Echo: ")

    records = ledger.session_records(session_id, 3)
    expected_calls = [{"id": call.call_id, "name": call.name, "arguments": call.arguments} for call in calls]
    for record in records[:2]:
        assert [{key: call[key] for key in ("id", "name", "arguments")} for call in record["tool_calls"]] == expected_calls
        for call in record["tool_calls"]:
            json.loads(call["arguments"])
        assert record["tool_results"] is None
    last = records[2]
    assert [result["tool_call_id"] for result in last["tool_results"]] == [call.call_id for call in calls]
    assert [result["content"] for result in last["tool_results"]] == ["18C", "18C"]
    assert len(last["messages"]) == len(follow_up)
