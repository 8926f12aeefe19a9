"""OTLP export (docs/reference.md, "OpenTelemetry"; docs/operations.md, "OpenTelemetry export").

A tiny OTLP/HTTP receiver on loopback decodes what `agentledger up` sends with the official `opentelemetry-proto`
package; every id and attribute of real proxied calls is checked against the stored record. Then the backend is
down, slow, and answering 503 with Retry-After while calls run: the calls are unaffected and drops are counted.
"""

from __future__ import annotations

import concurrent.futures
import gzip
import hashlib
import http.server
import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import httpx
import pytest
from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.proto.trace.v1 import trace_pb2

from conftest import start_ledger
from support import free_port, http_client, openai_client


@dataclass
class Receiver:
    """An OTLP/HTTP traces endpoint on loopback with a scripted behaviour: `answers` is consumed first (status,
    Retry-After), then `fallback`; `delay` seconds before each answer."""

    port: int
    answers: list[tuple[int, str | None]] = field(default_factory=list)
    fallback: int = 200
    delay: float = 0.0
    requests: list[dict] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: http.server.ThreadingHTTPServer | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def spans(self) -> list[tuple[dict, trace_pb2.Span]]:
        """Every span received with a 2xx answer, with its resource's attributes."""
        with self.lock:
            accepted = [request for request in self.requests if 200 <= request["status"] < 300]
        out = []
        for request in accepted:
            for resource_spans in request["message"].resource_spans:
                resource = {kv.key: kv.value.string_value for kv in resource_spans.resource.attributes}
                for scope_spans in resource_spans.scope_spans:
                    for span in scope_spans.spans:
                        out.append((resource, span))
        return out

    def wait_for_spans(self, count: int, timeout: float = 15.0) -> list[tuple[dict, trace_pb2.Span]]:
        deadline = time.monotonic() + timeout
        for _ in range(1000):
            spans = self.spans()
            if len(spans) >= count or time.monotonic() > deadline:
                return spans
            time.sleep(0.05)
        return self.spans()

    def start(self) -> None:
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                raw = self.rfile.read(int(self.headers.get("content-length", "0")))
                body = gzip.decompress(raw) if self.headers.get("content-encoding") == "gzip" else raw
                content_type = self.headers.get("content-type", "")
                message = trace_service_pb2.ExportTraceServiceRequest()
                if "json" in content_type:
                    document = json.loads(body)
                    receiver.json_documents.append(document)
                    json_format.ParseDict(_hex_ids_to_base64(document), message)
                else:
                    message.ParseFromString(body)
                with receiver.lock:
                    status, retry_after = receiver.answers.pop(0) if receiver.answers else (receiver.fallback, None)
                    receiver.requests.append(
                        {"path": self.path, "headers": dict(self.headers), "message": message, "status": status,
                         "at": time.monotonic()}
                    )
                if receiver.delay:
                    time.sleep(receiver.delay)
                answer = trace_service_pb2.ExportTraceServiceResponse().SerializeToString()
                self.send_response(status)
                self.send_header("content-type", "application/x-protobuf")
                self.send_header("content-length", str(len(answer)))
                if retry_after is not None:
                    self.send_header("retry-after", retry_after)
                self.end_headers()
                self.wfile.write(answer)

        self.json_documents: list[dict] = []
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


def _hex_ids_to_base64(value: object) -> object:
    """OTLP/JSON writes ids as hex; protobuf's JSON mapping wants base64."""
    import base64

    if isinstance(value, list):
        return [_hex_ids_to_base64(item) for item in value]
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key in ("traceId", "spanId", "parentSpanId") and isinstance(item, str):
                out[key] = base64.b64encode(bytes.fromhex(item)).decode()
            else:
                out[key] = _hex_ids_to_base64(item)
        return out
    return value


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver(port=free_port())
    receiver.start()
    try:
        yield receiver
    finally:
        receiver.stop()


def sha(text: str, size: int) -> bytes:
    return hashlib.sha256(text.encode()).digest()[:size]


def attributes(span: trace_pb2.Span) -> dict[str, object]:
    out: dict[str, object] = {}
    for kv in span.attributes:
        value = kv.value
        kind = value.WhichOneof("value")
        if kind == "array_value":
            out[kv.key] = [item.string_value for item in value.array_value.values]
        else:
            out[kv.key] = getattr(value, kind)
    return out


def metrics(base_url: str) -> dict[str, float]:
    with http_client() as client:
        text = client.get(f"{base_url}/metrics").text
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            values[name] = float(value)
    return values


def explain(base_url: str, action_id: str) -> dict:
    with http_client() as client:
        response = client.get(f"{base_url}/explain/{action_id}")
        assert response.status_code == 200, response.text
        return response.json()


def wait_for_record(base_url: str, action_id: str, timeout: float = 10.0) -> dict:
    deadline = time.monotonic() + timeout
    with http_client() as client:
        for _ in range(200):
            response = client.get(f"{base_url}/explain/{action_id}")
            if response.status_code == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
    assert response.status_code == 200, response.text
    return response.json()


def test_spans_carry_every_id_and_attribute_of_real_calls(
    binary: Path, upstream_url: str, receiver: Receiver, tmp_path: Path
) -> None:
    process, base = start_ledger(
        binary, upstream_url, tmp_path,
        AGENTLEDGER_SOURCE="pod-7",
        AGENTLEDGER_OTEL_ENDPOINT=receiver.endpoint,
        AGENTLEDGER_OTEL_SERVICE_NAME="e2e-ledger",
        AGENTLEDGER_OTEL_HEADERS="x-tenant=acme,authorization=Bearer%20otel-secret",
        AGENTLEDGER_OTEL_BATCH_DELAY_MS="100",
        AGENTLEDGER_OTEL_CAPTURE_CONTENT="true",
    )
    try:
        common = {"x-agentledger-session-id": "run-1", "x-agentledger-user-id": "user-1",
                  "x-agentledger-environment": "staging"}
        planner = openai_client(base, {**common, "x-agentledger-agent-name": "planner"})
        first = planner.chat.completions.with_raw_response.create(
            model="gpt-4o-mini", stream=True, temperature=0.3, max_tokens=50,
            messages=[{"role": "system", "content": "be brief"}, {"role": "user", "content": "plan the trip"}],
        )
        for _ in first.parse():
            pass
        first_id = first.headers["x-agentledger-action-id"]
        coder = openai_client(base, {**common, "x-agentledger-agent-name": "coder",
                                     "x-agentledger-parent-action-id": first_id,
                                     "x-agentledger-handoff-from": "planner", "x-agentledger-handoff-to": "coder"})
        second = coder.chat.completions.with_raw_response.create(
            model="gpt-4o", messages=[{"role": "user", "content": "write it"}])
        second_id = second.headers["x-agentledger-action-id"]
        with http_client() as client:
            failed = client.post(f"{base}/v1/chat/completions",
                                 headers={**common, "x-mock-scenario": "error_500", "authorization": "Bearer sk-x"},
                                 json={"model": "gpt-4o", "messages": [{"role": "user", "content": "fail"}]})
        assert failed.status_code == 500
        failed_id = failed.headers["x-agentledger-action-id"]

        received = receiver.wait_for_spans(3)
        assert len(received) == 3, receiver.requests
        by_action = {attributes(span)["agentledger.action_id"]: (resource, span) for resource, span in received}
        assert set(by_action) == {first_id, second_id, failed_id}

        request = receiver.requests[0]
        assert request["path"] == "/v1/traces"
        assert request["headers"]["content-type"] == "application/x-protobuf"
        assert request["headers"]["content-encoding"] == "gzip"
        assert request["headers"]["x-tenant"] == "acme"
        assert request["headers"]["authorization"] == "Bearer otel-secret"

        for action_id, (resource, span) in by_action.items():
            record = explain(base, action_id)
            attrs = attributes(span)
            assert resource == {"service.name": "e2e-ledger", "host.name": "pod-7", "service.instance.id": "pod-7"}
            assert span.trace_id == sha("run-1", 16)
            assert span.span_id == sha(action_id, 8)
            assert span.name == f"chat {record['model_id']}"
            assert span.kind == trace_pb2.Span.SPAN_KIND_CLIENT
            start = span.start_time_unix_nano / 1e9
            assert abs(start - _epoch(record["timestamp"])) < 0.001
            assert abs((span.end_time_unix_nano - span.start_time_unix_nano) / 1e6 - record["latency_ms"]) < 0.01
            assert attrs["gen_ai.operation.name"] == "chat"
            assert attrs["gen_ai.provider.name"] == attrs["gen_ai.system"] == "openai"
            assert attrs["gen_ai.request.model"] == attrs["gen_ai.response.model"] == record["model_id"]
            assert attrs["gen_ai.conversation.id"] == "run-1"
            assert attrs["agentledger.session_id"] == "run-1"
            assert attrs["agentledger.user_id"] == "user-1"
            assert attrs["agentledger.environment"] == "staging"
            assert attrs["http.response.status_code"] == record["status_code"]
            assert attrs["agentledger.latency_ms"] == pytest.approx(record["latency_ms"])
            assert attrs.get("agentledger.cost_usd") == record["cost_usd"]
            for name, field_name in [("gen_ai.usage.input_tokens", "tokens_in"), ("gen_ai.usage.output_tokens", "tokens_out"),
                                     ("gen_ai.usage.cache_read.input_tokens", "tokens_cache_read"),
                                     ("gen_ai.usage.cache_creation.input_tokens", "tokens_cache_write"),
                                     ("gen_ai.usage.cache_write.input_tokens", "tokens_cache_write"),
                                     ("gen_ai.usage.reasoning.output_tokens", "tokens_reasoning")]:
                assert attrs.get(name) == record[field_name], name

        _, span = by_action[first_id]
        attrs = attributes(span)
        assert span.parent_span_id == b""
        assert attrs["gen_ai.agent.name"] == "planner"
        assert attrs["gen_ai.request.temperature"] == 0.3
        assert attrs["gen_ai.request.max_tokens"] == 50
        assert attrs["gen_ai.response.finish_reasons"] == ["stop"]
        assert span.status.code == trace_pb2.Status.STATUS_CODE_UNSET
        record = explain(base, first_id)
        assert record["stream"] is True and record["ttft_ms"] is not None
        [event] = [event for event in span.events if event.name == "gen_ai.first_token"]
        assert abs((event.time_unix_nano - span.start_time_unix_nano) / 1e6 - record["ttft_ms"]) < 0.01
        assert attrs["agentledger.ttft_ms"] == pytest.approx(record["ttft_ms"])
        assert json.loads(attrs["gen_ai.system_instructions"]) == [{"type": "text", "content": "be brief"}]
        assert json.loads(attrs["gen_ai.input.messages"]) == [
            {"role": "user", "parts": [{"type": "text", "content": "plan the trip"}]}]
        output = json.loads(attrs["gen_ai.output.messages"])
        assert output[0]["role"] == "assistant" and output[0]["finish_reason"] == "stop"
        assert output[0]["parts"][0] == {"type": "text", "content": record["content"]}

        _, span = by_action[second_id]
        attrs = attributes(span)
        assert span.parent_span_id == sha(first_id, 8)
        assert attrs["gen_ai.agent.name"] == "coder"
        assert attrs["agentledger.handoff_from"] == "planner" and attrs["agentledger.handoff_to"] == "coder"
        assert not span.events

        _, span = by_action[failed_id]
        attrs = attributes(span)
        assert span.status.code == trace_pb2.Status.STATUS_CODE_ERROR
        assert span.status.message == explain(base, failed_id)["error_detail"]
        assert attrs["error.type"] == "500" and attrs["http.response.status_code"] == 500

        values = metrics(base)
        assert values["agentledger_otel_spans_exported_total"] == 3
        assert values["agentledger_otel_spans_dropped_total"] == 0
    finally:
        process.stop()
    assert "otel-secret" not in process.log_path.read_text()


def _epoch(timestamp: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()


def test_json_protocol_writes_hex_ids(binary: Path, upstream_url: str, receiver: Receiver, tmp_path: Path) -> None:
    process, base = start_ledger(
        binary, upstream_url, tmp_path,
        AGENTLEDGER_OTEL_ENDPOINT=receiver.endpoint + "/",
        AGENTLEDGER_OTEL_PROTOCOL="http/json",
        AGENTLEDGER_OTEL_BATCH_DELAY_MS="50",
    )
    try:
        response = openai_client(base, {"x-agentledger-session-id": "run-json"}).chat.completions.with_raw_response.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
        action_id = response.headers["x-agentledger-action-id"]
        [(_, span)] = receiver.wait_for_spans(1)
        assert receiver.requests[0]["headers"]["content-type"] == "application/json"
        raw = receiver.json_documents[0]["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
        assert raw["traceId"] == sha("run-json", 16).hex()
        assert raw["spanId"] == sha(action_id, 8).hex()
        assert raw["kind"] == 3
        assert span.span_id == sha(action_id, 8)
    finally:
        process.stop()


def test_standard_otel_variables_are_honoured(binary: Path, upstream_url: str, receiver: Receiver, tmp_path: Path) -> None:
    process, base = start_ledger(
        binary, upstream_url, tmp_path,
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=receiver.endpoint + "/v1/traces",
        OTEL_EXPORTER_OTLP_HEADERS="x-std=yes",
        AGENTLEDGER_OTEL_BATCH_DELAY_MS="50",
    )
    try:
        openai_client(base).chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
        assert len(receiver.wait_for_spans(1)) == 1
        assert receiver.requests[0]["headers"]["x-std"] == "yes"
    finally:
        process.stop()


def test_503_with_retry_after_is_retried_after_the_wait(
    binary: Path, upstream_url: str, receiver: Receiver, tmp_path: Path
) -> None:
    receiver.answers = [(503, "2")]
    process, base = start_ledger(
        binary, upstream_url, tmp_path, AGENTLEDGER_OTEL_ENDPOINT=receiver.endpoint, AGENTLEDGER_OTEL_BATCH_DELAY_MS="50")
    try:
        openai_client(base).chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
        assert len(receiver.wait_for_spans(1)) == 1
        assert [request["status"] for request in receiver.requests] == [503, 200]
        waited = receiver.requests[1]["at"] - receiver.requests[0]["at"]
        assert 1.9 <= waited < 6, waited
        values = metrics(base)
        assert values["agentledger_otel_export_retries_total"] == 1
        assert values["agentledger_otel_spans_exported_total"] == 1
    finally:
        process.stop()


def _load(base: str, calls: int, workers: int = 8) -> list[float]:
    """`calls` chat calls from `workers` threads; every one must succeed. Returns each call's seconds."""

    def one(index: int) -> float:
        started = time.monotonic()
        with httpx.Client(timeout=30.0, trust_env=False) as client:
            response = client.post(f"{base}/v1/chat/completions",
                                   headers={"authorization": "Bearer sk-x", "x-agentledger-session-id": f"load-{index % 10}"},
                                   json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"n{index}"}]})
        assert response.status_code == 200, response.text
        return time.monotonic() - started

    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(one, range(calls)))


@pytest.mark.parametrize("backend", ["down", "slow", "503"])
def test_a_bad_backend_never_slows_calls_and_drops_are_counted(
    binary: Path, upstream_url: str, receiver: Receiver, tmp_path: Path, backend: str
) -> None:
    endpoint = receiver.endpoint
    if backend == "down":
        receiver.stop()
        endpoint = f"http://127.0.0.1:{free_port()}"
    elif backend == "slow":
        receiver.delay = 3.0
    else:
        receiver.fallback = 503
        receiver.answers = []
    process, base = start_ledger(
        binary, upstream_url, tmp_path,
        AGENTLEDGER_OTEL_ENDPOINT=endpoint,
        AGENTLEDGER_OTEL_QUEUE_SIZE="20",
        AGENTLEDGER_OTEL_BATCH_SIZE="10",
        AGENTLEDGER_OTEL_BATCH_DELAY_MS="20",
        AGENTLEDGER_OTEL_TIMEOUT_MS="2000",
    )
    try:
        calls = 300
        started = time.monotonic()
        durations = _load(base, calls)
        elapsed = time.monotonic() - started
        durations.sort()
        # Every call answered, none waited on the exporter (a retry waits seconds, a slow answer 3 s).
        assert durations[int(len(durations) * 0.99)] < 1.5, durations[-5:]
        assert elapsed < 60
        deadline = time.monotonic() + 10
        for _ in range(200):
            values = metrics(base)
            if values.get("agentledger_records_stored_total", 0) >= calls or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert values["agentledger_records_stored_total"] >= calls
        assert values["agentledger_otel_spans_dropped_total"] > 0
        exported = values["agentledger_otel_spans_exported_total"]
        settled = exported + values["agentledger_otel_spans_dropped_total"] + values["agentledger_otel_spans_failed_total"]
        # The queue holds at most 20, and one batch of 10 may be in flight.
        assert calls - 30 <= settled <= calls
        if backend != "slow":
            assert exported == 0
        with http_client() as client:
            assert client.get(f"{base}/session/load-3").status_code == 200
    finally:
        process.stop()
