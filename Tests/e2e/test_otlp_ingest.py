"""OTLP ingest: `POST /v1/traces` (docs/reference.md, "OTLP ingest").

Spans made by the official `opentelemetry-sdk` and sent by its OTLP/HTTP exporter become calls (source `otlp`),
priced by the same table and read back through the API; non-LLM spans are answered as a partial success; bad,
oversize and unauthenticated bodies are refused with a reason.
"""

from __future__ import annotations

import gzip
import json
import time
from pathlib import Path
from typing import Iterator

import pytest
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto.trace.v1 import trace_pb2
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.trace import Status, StatusCode

from conftest import start_ledger
from support import ManagedProcess, http_client

TOKEN = "otlp-ingest-token-0123456789"


@pytest.fixture(scope="module")
def ledger(binary: Path, upstream_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ManagedProcess, str]]:
    process, base = start_ledger(
        binary, upstream_url, tmp_path_factory.mktemp("otlp-ingest"),
        AGENTLEDGER_INGEST_TOKEN=TOKEN, AGENTLEDGER_OTLP_MAX_BODY_MB="1")
    try:
        yield process, base
    finally:
        process.stop()


def tracer_provider(base: str, token: str | None = TOKEN) -> tuple[TracerProvider, OTLPSpanExporter]:
    exporter = OTLPSpanExporter(
        endpoint=f"{base}/v1/traces", headers={"authorization": f"Bearer {token}"} if token else None,
        compression=Compression.Gzip, timeout=10)
    provider = TracerProvider(resource=Resource.create({"service.name": "travel-agent",
                                                        "deployment.environment.name": "staging"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


def session(base: str, session_id: str, expected: int, timeout: float = 10.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    with http_client() as client:
        for _ in range(200):
            response = client.get(f"{base}/session/{session_id}")
            if response.status_code == 200 and len(response.json()) >= expected:
                return response.json()
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)
    raise AssertionError(f"session {session_id}: {response.status_code} {response.text[:300]}")


def metrics(base: str) -> dict[str, float]:
    with http_client() as client:
        text = client.get(f"{base}/metrics").text
    return {line.rpartition(" ")[0]: float(line.rpartition(" ")[2]) for line in text.splitlines() if line and line[0] != "#"}


def test_sdk_spans_become_priced_calls(ledger: tuple[ManagedProcess, str]) -> None:
    _, base = ledger
    provider, _ = tracer_provider(base)
    tracer = provider.get_tracer("e2e-agent")
    with tracer.start_as_current_span("invoke_agent planner", attributes={"gen_ai.operation.name": "invoke_agent"}):
        with tracer.start_as_current_span("chat gpt-4o", attributes={
            "gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o",
            "gen_ai.usage.input_tokens": 1200, "gen_ai.usage.output_tokens": 80,
            "gen_ai.usage.cache_read.input_tokens": 1000, "gen_ai.conversation.id": "otlp-run-1",
            "user.id": "traveller", "gen_ai.agent.name": "planner", "gen_ai.response.finish_reasons": ["stop"],
            "gen_ai.input.messages": json.dumps([{"role": "user", "parts": [{"type": "text", "content": "Paris?"}]}]),
            "gen_ai.output.messages": json.dumps(
                [{"role": "assistant", "parts": [{"type": "text", "content": "Go in May."}], "finish_reason": "stop"}]),
        }):
            time.sleep(0.02)
        # Deprecated names (OpenLLMetry and older instrumentations).
        with tracer.start_as_current_span("anthropic.chat", attributes={
            "gen_ai.system": "anthropic", "gen_ai.request.model": "claude-sonnet-4-5", "llm.request.type": "chat",
            "gen_ai.usage.prompt_tokens": 300, "gen_ai.usage.completion_tokens": 40, "session.id": "otlp-run-1",
            "gen_ai.prompt.0.role": "user", "gen_ai.prompt.0.content": "and hotels?",
            "gen_ai.completion.0.content": "Book early.",
        }) as span:
            span.set_status(Status(StatusCode.ERROR, "upstream overloaded"))
        # OpenInference (Arize Phoenix, OpenAI Agents SDK instrumentation).
        with tracer.start_as_current_span("ChatCompletion", attributes={
            "openinference.span.kind": "LLM", "llm.model_name": "gpt-4o-mini", "llm.provider": "openai",
            "llm.token_count.prompt": 50, "llm.token_count.completion": 5, "session.id": "otlp-run-1",
            "input.value": "thanks", "output.value": "You're welcome.",
        }):
            pass
        with tracer.start_as_current_span("execute_tool search", attributes={"gen_ai.operation.name": "execute_tool"}):
            pass
    assert provider.force_flush(10_000)

    records = session(base, "otlp-run-1", 3)
    assert len(records) == 3
    by_model = {record["model_id"]: record for record in records}
    chat = by_model["gpt-4o"]
    assert chat["source"] == "otlp"
    assert chat["provider"] == "openai"
    assert chat["app_id"] == "travel-agent" and chat["environment"] == "staging"
    assert chat["user_id"] == "traveller" and chat["agent_name"] == "planner"
    assert (chat["tokens_in"], chat["tokens_out"], chat["tokens_cache_read"]) == (1200, 80, 1000)
    assert chat["cost_usd"] is not None and chat["cost_usd"] > 0 and chat["price_table"]
    assert chat["status_code"] == 200 and chat["outcome"] == "completed"
    assert chat["messages"] == [{"role": "user", "content": "Paris?"}]
    assert chat["content"] == "Go in May." and chat["stop_reason"] == "stop"
    assert chat["latency_ms"] >= 20
    old = by_model["claude-sonnet-4-5"]
    assert old["provider"] == "anthropic" and (old["tokens_in"], old["tokens_out"]) == (300, 40)
    assert old["cost_usd"] is not None
    assert old["outcome"] == "upstream_failed" and "upstream overloaded" in old["error_detail"]
    assert old["messages"] == [{"role": "user", "content": "and hotels?"}] and old["content"] == "Book early."
    inference = by_model["gpt-4o-mini"]
    assert (inference["tokens_in"], inference["tokens_out"]) == (50, 5) and inference["content"] == "You're welcome."

    with http_client() as client:
        explained = client.get(f"{base}/explain/{chat['action_id']}")
        assert explained.status_code == 200 and explained.json()["source"] == "otlp"
        listed = client.get(f"{base}/api/sessions", params={"user": "traveller"}).json()
        assert any(item["session_id"] == "otlp-run-1" for item in listed)
        exported = client.get(f"{base}/export/otlp-run-1")
        assert exported.status_code == 200 and chat["action_id"] in exported.text
    values = metrics(base)
    assert values['agentledger_otlp_spans_received_total{kind="llm_call"}'] >= 3
    assert values['agentledger_otlp_spans_received_total{kind="other"}'] >= 2


def test_the_same_span_twice_is_one_call(ledger: tuple[ManagedProcess, str]) -> None:
    _, base = ledger
    provider, exporter = tracer_provider(base)
    tracer = provider.get_tracer("e2e-agent")
    with tracer.start_as_current_span("chat gpt-4o", attributes={
        "gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o", "gen_ai.conversation.id": "otlp-twice",
        "gen_ai.usage.input_tokens": 10, "gen_ai.usage.output_tokens": 1}) as span:
        pass
    assert provider.force_flush(10_000)
    assert exporter.export([span]) == SpanExportResult.SUCCESS
    time.sleep(0.3)
    assert len(session(base, "otlp-twice", 1)) == 1


def raw_request(spans: list[trace_pb2.Span]) -> trace_service_pb2.ExportTraceServiceRequest:
    request = trace_service_pb2.ExportTraceServiceRequest()
    resource_spans = request.resource_spans.add()
    resource_spans.scope_spans.add().spans.extend(spans)
    return request


def llm_span(span_id: bytes, session_id: str) -> trace_pb2.Span:
    span = trace_pb2.Span(trace_id=b"\x07" * 16, span_id=span_id, name="chat", start_time_unix_nano=1_765_000_000_000_000_000,
                          end_time_unix_nano=1_765_000_000_500_000_000)
    for key, value in {"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o",
                       "gen_ai.conversation.id": session_id}.items():
        span.attributes.append(common_pb2.KeyValue(key=key, value=common_pb2.AnyValue(string_value=value)))
    span.attributes.append(common_pb2.KeyValue(key="gen_ai.usage.input_tokens", value=common_pb2.AnyValue(int_value=7)))
    return span


def test_non_llm_spans_are_answered_as_a_partial_success(ledger: tuple[ManagedProcess, str]) -> None:
    _, base = ledger
    other = trace_pb2.Span(trace_id=b"\x07" * 16, span_id=b"\x02" * 8, name="GET /")
    body = raw_request([llm_span(b"\x01" * 8, "otlp-partial"), other]).SerializeToString()
    with http_client() as client:
        response = client.post(f"{base}/v1/traces", content=body,
                               headers={"content-type": "application/x-protobuf", "authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.text
    answer = trace_service_pb2.ExportTraceServiceResponse.FromString(response.content)
    assert answer.partial_success.rejected_spans == 1
    assert "not LLM calls" in answer.partial_success.error_message
    assert len(session(base, "otlp-partial", 1)) == 1


def test_json_and_gzip_bodies_are_read(ledger: tuple[ManagedProcess, str]) -> None:
    _, base = ledger
    document = {"resourceSpans": [{"resource": {"attributes": [
        {"key": "service.name", "value": {"stringValue": "json-agent"}}]},
        "scopeSpans": [{"spans": [{
            "traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b174", "name": "chat gpt-4o",
            "kind": 3, "startTimeUnixNano": "1765000000000000000", "endTimeUnixNano": "1765000000250000000",
            "attributes": [
                {"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}},
                {"key": "gen_ai.request.model", "value": {"stringValue": "gpt-4o"}},
                {"key": "gen_ai.usage.input_tokens", "value": {"intValue": "25"}},
                {"key": "gen_ai.conversation.id", "value": {"stringValue": "otlp-json"}},
            ]}]}]}]}
    with http_client() as client:
        response = client.post(f"{base}/v1/traces", content=gzip.compress(json.dumps(document).encode()),
                               headers={"content-type": "application/json", "content-encoding": "gzip",
                                        "authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    [record] = session(base, "otlp-json", 1)
    assert record["tokens_in"] == 25 and record["app_id"] == "json-agent" and record["latency_ms"] == 250


def test_refusals_say_why(ledger: tuple[ManagedProcess, str]) -> None:
    process, base = ledger
    body = raw_request([llm_span(b"\x03" * 8, "otlp-refused")]).SerializeToString()
    protobuf = {"content-type": "application/x-protobuf"}
    with http_client() as client:
        assert client.post(f"{base}/v1/traces", content=body, headers=protobuf).status_code == 401
        wrong = client.post(f"{base}/v1/traces", content=body, headers={**protobuf, "authorization": "Bearer nope"})
        assert wrong.status_code == 401
        auth = {"authorization": f"Bearer {TOKEN}"}
        bad = client.post(f"{base}/v1/traces", content=b"\xff\xff\xff", headers={**protobuf, **auth})
        assert bad.status_code == 400
        status = bad.content
        assert b"not an OTLP ExportTraceServiceRequest" in status
        bad_json = client.post(f"{base}/v1/traces", content=b"{nope",
                               headers={"content-type": "application/json", **auth})
        assert bad_json.status_code == 400 and "not JSON" in bad_json.json()["message"]
        not_gzip = client.post(f"{base}/v1/traces", content=body, headers={**protobuf, **auth, "content-encoding": "gzip"})
        assert not_gzip.status_code == 400 and b"gzip" in not_gzip.content
        assert client.post(f"{base}/v1/traces", content=body, headers={"content-type": "text/plain", **auth}).status_code == 415
        oversize = client.post(f"{base}/v1/traces", content=b"\x00" * (2 << 20), headers={**protobuf, **auth})
        assert oversize.status_code == 413
        bomb = client.post(f"{base}/v1/traces", content=gzip.compress(b"\x00" * (4 << 20)),
                           headers={**protobuf, **auth, "content-encoding": "gzip"})
        assert bomb.status_code == 413
        # The collector keeps serving everything else.
        assert client.get(f"{base}/healthz").status_code == 200
        assert client.get(f"{base}/session/otlp-refused").status_code == 404
    values = metrics(base)
    assert values['agentledger_otlp_requests_refused_total{reason="unauthorized"}'] >= 2
    assert values['agentledger_otlp_requests_refused_total{reason="too_large"}'] >= 2
    assert TOKEN not in process.log_path.read_text()


def test_without_an_ingest_token_the_api_key_is_required(binary: Path, upstream_url: str, tmp_path: Path) -> None:
    process, base = start_ledger(binary, upstream_url, tmp_path, AGENTLEDGER_API_KEY="api-key-0123456789")
    try:
        body = raw_request([llm_span(b"\x04" * 8, "otlp-api-key")]).SerializeToString()
        with http_client() as client:
            headers = {"content-type": "application/x-protobuf"}
            assert client.post(f"{base}/v1/traces", content=body, headers=headers).status_code == 401
            ok = client.post(f"{base}/v1/traces", content=body,
                             headers={**headers, "authorization": "Bearer api-key-0123456789"})
            assert ok.status_code == 200
            records = client.get(f"{base}/session/otlp-api-key", headers={"x-agentledger-api-key": "api-key-0123456789"})
            assert records.status_code == 200 and len(records.json()) == 1
    finally:
        process.stop()
