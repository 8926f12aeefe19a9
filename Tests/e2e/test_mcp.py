"""The MCP server of a real `agentledger up` (Streamable HTTP at `/mcp`) and of `agentledger mcp` (stdio), driven by
the official Python `mcp` client after real calls through the proxy and the mock upstream: every tool answers, bad
arguments are tool errors, the API key and the Origin check guard `/mcp` as they guard the API (issue 16, part 3)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any, Awaitable, Callable, Iterator

import httpx2
import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from conftest import start_ledger
from support import ManagedProcess, fresh_postgres_database, http_client, new_session_id, openai_client

API_KEY = "e2e-mcp-api-key-0123456789"
AUTH = {"Authorization": f"Bearer {API_KEY}"}
MODEL = "gpt-4o-mini"
TOOLS = ["explain", "get_session", "list_sessions", "search", "spend", "stats", "budgets"]


class Recorded:
    """A running `up` with an API key, a daily budget and an agent rate limit, and the calls made through it."""

    def __init__(
        self, process: ManagedProcess, base_url: str, dsn: str, workdir: Path, session_id: str, action_ids: list[str]
    ):
        self.process = process
        self.dsn = dsn
        self.base_url = base_url
        self.workdir = workdir
        self.session_id = session_id
        self.action_ids = action_ids

    @property
    def mcp_url(self) -> str:
        return f"{self.base_url}/mcp"


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def recorded(
    request: pytest.FixtureRequest, binary: Path, upstream_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Recorded]:
    workdir = tmp_path_factory.mktemp("mcp")
    dsn = f"sqlite:///{workdir / 'ledger.db'}" if request.param == "sqlite" else fresh_postgres_database("mcp")
    process, base_url = start_ledger(
        binary, upstream_url, workdir, AGENTLEDGER_API_KEY=API_KEY, AGENTLEDGER_BUDGET_DAILY="50",
        AGENTLEDGER_RATE_LIMIT_AGENT_RPM="1000", AGENTLEDGER_DSN=dsn)
    try:
        session_id = new_session_id("mcp")
        client = openai_client(base_url, {
            "x-agentledger-session-id": session_id, "x-agentledger-agent-name": "mcp-writer",
            "x-agentledger-user-id": "mcp-user", "x-agentledger-environment": "staging",
        })
        action_ids = []
        for index in range(3):
            raw = client.chat.completions.with_raw_response.create(
                model=MODEL, messages=[{"role": "user", "content": f"quokka question {index}"}])
            action_ids.append(raw.headers["x-agentledger-action-id"])
        with http_client() as http:
            for _ in range(200):
                response = http.get(f"{base_url}/session/{session_id}", headers=AUTH)
                if response.status_code == 200 and len(response.json()) == 3:
                    break
                time.sleep(0.1)
            else:
                raise AssertionError(f"records did not arrive: {response.status_code} {response.text[:200]}")
        yield Recorded(process, base_url, dsn, workdir, session_id, action_ids)
    finally:
        process.stop()


def run(body: Callable[[], Awaitable[Any]], timeout: float = 60) -> Any:
    return asyncio.run(asyncio.wait_for(body(), timeout))


async def call(session: ClientSession, name: str, arguments: dict[str, Any] | None = None) -> dict[str, Any]:
    """Calls a tool that must succeed: its structured content, which its text content repeats as JSON."""
    result = await session.call_tool(name, arguments or {})
    assert not result.is_error, f"{name}: {result.content}"
    assert result.structured_content is not None, name
    assert json.loads(result.content[0].text) == result.structured_content, name
    return result.structured_content


async def tool_error(session: ClientSession, name: str, arguments: dict[str, Any], naming: str) -> None:
    result = await session.call_tool(name, arguments)
    assert result.is_error, f"{name} {arguments} should be a tool error"
    assert naming in result.content[0].text, result.content[0].text


async def exercise(session: ClientSession, recorded: Recorded, live: bool) -> dict[str, Any]:
    """Lists the tools, calls each with real arguments and checks what it says about the recorded calls."""
    await session.initialize()
    tools = {tool.name: tool for tool in (await session.list_tools()).tools}
    assert sorted(tools) == sorted(TOOLS)
    for tool in tools.values():
        assert tool.annotations is not None and tool.annotations.read_only_hint is True, tool.name
        properties = tool.input_schema["properties"]
        assert all(schema.get("description") for schema in properties.values()), tool.name

    first = recorded.action_ids[0]
    explained = await call(session, "explain", {"action_id": first})
    assert explained["action_id"] == first
    assert explained["session_id"] == recorded.session_id
    assert explained["agent_name"] == "mcp-writer"
    assert explained["model_id"].startswith(MODEL)

    page = await call(session, "get_session", {"session_id": recorded.session_id, "limit": 2})
    assert [c["action_id"] for c in page["calls"]] == recorded.action_ids[:2]
    assert page["total_calls"] == 3 and page["next_offset"] == 2
    rest = await call(session, "get_session", {"session_id": recorded.session_id, "offset": 2})
    assert [c["action_id"] for c in rest["calls"]] == recorded.action_ids[2:] and rest["next_offset"] is None

    listed = await call(session, "list_sessions", {"agent": "mcp-writer", "environment": "staging"})
    assert [s["session_id"] for s in listed["sessions"]] == [recorded.session_id]
    assert listed["sessions"][0]["call_count"] == 3

    found = await call(session, "search", {"query": "quokka question 1"})
    assert [c["action_id"] for c in found["calls"]] == [recorded.action_ids[1]]

    spend = await call(session, "spend", {"group_by": "agent", "since": "1h"})
    writer = [g for g in spend["groups"] if g["key"] == "mcp-writer"]
    assert writer and writer[0]["calls"] == 3 and writer[0]["spend_usd"] > 0
    by_environment = await call(session, "spend", {"group_by": "environment"})
    assert "staging" in [g["key"] for g in by_environment["groups"]]

    stats = await call(session, "stats", {"since": "1h", "bucket": "minute"})
    assert stats["totals"]["calls"] == 3
    assert stats["by_agent"][0]["agent_name"] == "mcp-writer"

    budgets = await call(session, "budgets")
    fleet = [b for b in budgets["budgets"] if b["scope"] == "fleet"]
    assert fleet and fleet[0]["limit_usd"] == 50 and fleet[0]["keys"][0]["spent_usd"] > 0
    if live:
        assert budgets["source"] == "collector"
        agent_limit = budgets["rate_limits"][0]
        assert agent_limit["scope"] == "agent" and agent_limit["limit_requests"] == 1000
        assert agent_limit["keys"][0] == {"key": "mcp-writer", "limit_requests": 1000, "requests": 3, "remaining": 997}
    else:
        assert budgets["source"] == "store" and budgets["rate_limits"] is None

    await tool_error(session, "explain", {"action_id": "no-such-call"}, "no call with action_id no-such-call")
    await tool_error(session, "get_session", {"session_id": "no-such-session"}, "no session with session_id")
    await tool_error(session, "spend", {"group_by": "planet"}, "group_by must be one of")
    await tool_error(session, "list_sessions", {"limit": "many"}, "limit must be an integer")
    await tool_error(session, "search", {}, "query is required")
    await tool_error(session, "stats", {"since": "yesterday"}, "since must be")
    await tool_error(session, "get_session", {"session_id": recorded.session_id, "colour": "red"}, "unknown argument colour")
    return explained


def test_every_tool_over_streamable_http(recorded: Recorded) -> None:
    async def body() -> dict[str, Any]:
        async with create_mcp_http_client(headers=AUTH) as http:
            async with streamable_http_client(recorded.mcp_url, http_client=http) as (read, write, *_):
                async with ClientSession(read, write) as session:
                    return await exercise(session, recorded, live=True)

    explained = run(body)
    with http_client() as http:
        assert http.get(f"{recorded.base_url}/explain/{recorded.action_ids[0]}", headers=AUTH).json() == explained


def test_every_tool_over_stdio_on_the_same_database(recorded: Recorded, binary: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("AGENTLEDGER_")}
    env.update(AGENTLEDGER_DSN=recorded.dsn, AGENTLEDGER_BUDGET_DAILY="50")
    stderr = (recorded.workdir / "mcp-stdio.log").open("w")

    async def body() -> None:
        parameters = StdioServerParameters(command=str(binary), args=["mcp"], env=env)
        async with stdio_client(parameters, errlog=stderr) as (read, write):
            async with ClientSession(read, write) as session:
                await exercise(session, recorded, live=False)

    try:
        run(body)
    finally:
        stderr.close()
    assert "MCP server on stdio" in (recorded.workdir / "mcp-stdio.log").read_text(), "logs go to standard error"


def test_stdio_refuses_a_store_that_does_not_exist(binary: Path, tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("AGENTLEDGER_")}
    env["AGENTLEDGER_DSN"] = f"sqlite:///{tmp_path / 'typo.db'}"
    done = subprocess.run([str(binary), "mcp"], env=env, input=b"", capture_output=True, timeout=30)
    assert done.returncode == 2
    assert b"AGENTLEDGER_DSN: no SQLite store at" in done.stderr and done.stdout == b""
    assert not (tmp_path / "typo.db").exists()


def initialize_body(request_id: int = 1) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "e2e", "version": "1"}}}


MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def test_no_key_gets_401_and_a_foreign_origin_403(recorded: Recorded) -> None:
    with http_client() as http:
        bare = http.post(recorded.mcp_url, json=initialize_body(), headers=MCP_HEADERS)
        assert bare.status_code == 401 and bare.json() == {"detail": "Unauthorized"}
        wrong = http.post(recorded.mcp_url, json=initialize_body(), headers={**MCP_HEADERS, "Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        foreign = http.post(
            recorded.mcp_url, json=initialize_body(), headers={**MCP_HEADERS, **AUTH, "Origin": "https://evil.example"})
        assert foreign.status_code == 403 and "AGENTLEDGER_ALLOWED_ORIGINS" in foreign.json()["detail"]
        port = recorded.base_url.rsplit(":", 1)[1]
        same = http.post(
            recorded.mcp_url, json=initialize_body(), headers={**MCP_HEADERS, **AUTH, "Origin": f"http://127.0.0.1:{port}"})
        assert same.status_code == 200

    async def client_without_key() -> None:
        async with streamable_http_client(recorded.mcp_url) as (read, write, *_):
            async with ClientSession(read, write) as session:
                await session.initialize()

    # The official client gets the 401 and fails to initialize (it reports it as a generic error response).
    with pytest.raises(BaseException):
        run(client_without_key, timeout=30)


def test_sessions_protocol_version_and_delete(recorded: Recorded) -> None:
    with http_client() as http:
        opened = http.post(recorded.mcp_url, json=initialize_body(), headers={**MCP_HEADERS, **AUTH})
        assert opened.status_code == 200 and opened.headers["content-type"].startswith("text/event-stream")
        session_id = opened.headers["mcp-session-id"]
        assert '"protocolVersion":"2025-11-25"' in opened.text
        headers = {**MCP_HEADERS, **AUTH, "MCP-Session-Id": session_id, "MCP-Protocol-Version": "2025-11-25"}
        listed = http.post(recorded.mcp_url, json={"jsonrpc": "2.0", "id": 2, "method": "tools/list"}, headers=headers)
        assert listed.status_code == 200 and '"name":"budgets"' in listed.text
        unknown_tool = http.post(
            recorded.mcp_url, headers=headers,
            json={"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "drop_tables", "arguments": {}}})
        assert unknown_tool.status_code == 200 and '"code":-32602' in unknown_tool.text
        old = http.post(
            recorded.mcp_url, json={"jsonrpc": "2.0", "id": 4, "method": "tools/list"},
            headers={**headers, "MCP-Protocol-Version": "1999-01-01"})
        assert old.status_code == 400 and "Unsupported protocol version" in old.text
        no_session = http.post(
            recorded.mcp_url, json={"jsonrpc": "2.0", "id": 5, "method": "tools/list"}, headers={**MCP_HEADERS, **AUTH})
        assert no_session.status_code == 400
        too_big = http.post(recorded.mcp_url, content=b"{" + b" " * (2 << 20) + b"}", headers=headers)
        assert too_big.status_code == 413
        stream = http.get(recorded.mcp_url, headers={**headers, "Accept": "text/event-stream"})
        assert stream.status_code == 405 and stream.headers["allow"] == "POST, DELETE"
        assert http.delete(recorded.mcp_url, headers=headers).status_code == 200
        gone = http.post(recorded.mcp_url, json={"jsonrpc": "2.0", "id": 6, "method": "tools/list"}, headers=headers)
        assert gone.status_code == 404
        # The API answers on as before.
        assert http.get(f"{recorded.base_url}/api/sessions", headers=AUTH).status_code == 200


def test_shutdown_does_not_wait_for_an_open_session(binary: Path, upstream_url: str, tmp_path: Path) -> None:
    """An assistant with a session open does not hold `up`'s shutdown (grace is 20 s): no stream outlives its answer."""
    process, base_url = start_ledger(binary, upstream_url, tmp_path)
    stopped: dict[str, float] = {}

    async def body() -> None:
        async with streamable_http_client(f"{base_url}/mcp") as (read, write, *_):
            async with ClientSession(read, write) as session:
                await session.initialize()
                await session.list_tools()
                await asyncio.sleep(0.5)  # the client has asked for its GET event stream (405) by now
                started = time.monotonic()
                stopped["code"] = await asyncio.to_thread(process.stop, 15.0)
                stopped["seconds"] = time.monotonic() - started

    try:
        run(body, timeout=40)
    except BaseException:  # the client sees its server go away; what matters is how fast
        pass
    finally:
        process.stop()
    assert stopped.get("code") == 0, f"{stopped}\n{process.log_tail()}"
    assert stopped["seconds"] < 5, stopped
