"""Tool context through the real `up`: a call's tool results are those answering the previous call, and each one
names the call that asked for it (`requested_by`), in /session and /explain alike."""

from __future__ import annotations

from support import Ledger, http_client, new_session_id, openai_client


def test_tool_results_link_to_the_call_that_asked(ledger: Ledger):
    session = new_session_id("tools")
    client = openai_client(ledger.base_url, headers={"x-agentledger-session-id": session})
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]
    question = {"role": "user", "content": "Weather and time in Paris?"}
    asked = client.chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=[question], tools=tools, extra_headers={"x-mock-scenario": "tool_call"}
    )
    first = asked.parse()
    tool_calls = first.choices[0].message.tool_calls
    assert len(tool_calls) == 2
    history = [question, first.choices[0].message.model_dump(exclude_none=True)]
    history += [{"role": "tool", "tool_call_id": call.id, "content": f"result of {call.function.name}"} for call in tool_calls]
    answered = client.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=history, tools=tools)

    asker = asked.headers["x-agentledger-action-id"]
    records = ledger.session_records(session, 2)
    results = records[1]["tool_results"]
    assert [result["tool_call_id"] for result in results] == [call.id for call in tool_calls]
    assert all(result["requested_by"] == asker for result in results), results
    assert not records[0]["tool_results"]

    with http_client() as http:
        explained = http.get(f"{ledger.base_url}/explain/{answered.headers['x-agentledger-action-id']}").json()
    assert [result["requested_by"] for result in explained["tool_results"]] == [asker, asker]
