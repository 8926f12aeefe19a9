import Foundation
import OTLPProto
import Testing

@testable import Collector

/// Spans from instrumented agents as records (docs/reference.md, "OTLP ingest").
@Suite struct OTLPSpanReaderTests {
    let reader = OTLPSpanReader(prices: .builtIn)

    static func value(_ any: Any) -> Opentelemetry_Proto_Common_V1_AnyValue {
        var value = Opentelemetry_Proto_Common_V1_AnyValue()
        switch any {
        case let string as String: value.stringValue = string
        case let int as Int: value.intValue = Int64(int)
        case let double as Double: value.doubleValue = double
        case let bool as Bool: value.boolValue = bool
        case let strings as [String]:
            var array = Opentelemetry_Proto_Common_V1_ArrayValue()
            array.values = strings.map { Self.value($0) }
            value.arrayValue = array
        default: Issue.record("unsupported attribute value \(any)")
        }
        return value
    }

    static func span(
        trace: UInt8 = 1, id: UInt8, parent: UInt8? = nil, _ attributes: [String: Any], error: Bool = false
    ) -> Opentelemetry_Proto_Trace_V1_Span {
        var span = Opentelemetry_Proto_Trace_V1_Span()
        span.traceID = Data(repeating: trace, count: 16)
        span.spanID = Data(repeating: id, count: 8)
        if let parent { span.parentSpanID = Data(repeating: parent, count: 8) }
        span.name = "span"
        span.startTimeUnixNano = 1_765_000_000_000_000_000
        span.endTimeUnixNano = 1_765_000_000_750_000_000
        span.attributes = attributes.sorted { $0.key < $1.key }.map { key, any in
            var keyValue = Opentelemetry_Proto_Common_V1_KeyValue()
            keyValue.key = key
            keyValue.value = value(any)
            return keyValue
        }
        if error {
            span.status.code = .error
            span.status.message = "boom"
        }
        return span
    }

    static func request(_ spans: [Opentelemetry_Proto_Trace_V1_Span], service: String = "my-agent")
        -> Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest
    {
        var resource = Opentelemetry_Proto_Resource_V1_Resource()
        var name = Opentelemetry_Proto_Common_V1_KeyValue()
        name.key = "service.name"
        name.value = value(service)
        resource.attributes = [name]
        var scopeSpans = Opentelemetry_Proto_Trace_V1_ScopeSpans()
        scopeSpans.spans = spans
        var resourceSpans = Opentelemetry_Proto_Trace_V1_ResourceSpans()
        resourceSpans.resource = resource
        resourceSpans.scopeSpans = [scopeSpans]
        var request = Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest()
        request.resourceSpans = [resourceSpans]
        return request
    }

    @Test func currentGenAINamesBecomeAPricedRecord() throws {
        let span = Self.span(
            id: 2,
            [
                "gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o",
                "gen_ai.response.model": "gpt-4o-2024-08-06", "gen_ai.usage.input_tokens": 1000,
                "gen_ai.usage.output_tokens": 100,
                "gen_ai.usage.cache_read.input_tokens": 400, "gen_ai.conversation.id": "run-1", "user.id": "u-1",
                "gen_ai.agent.name": "planner", "gen_ai.response.finish_reasons": ["stop"], "gen_ai.request.temperature": 0.5,
                "gen_ai.request.max_tokens": 64,
                "gen_ai.input.messages": #"[{"role":"user","parts":[{"type":"text","content":"hello"}]}]"#,
                "gen_ai.output.messages":
                    #"[{"role":"assistant","parts":[{"type":"text","content":"hi!"},{"type":"tool_call","id":"c1","name":"search","arguments":{"q":"x"}}],"finish_reason":"tool_calls"}]"#,
            ])
        let reading = reader.read(Self.request([span]))
        #expect(reading.notLLM == 0)
        let record = try #require(reading.records.first)
        #expect(record.source == "otlp")
        #expect(record.actionID == OTLPSpanReader.actionID(of: span))
        #expect(record.provider == "openai")
        #expect(record.modelID == "gpt-4o-2024-08-06")
        #expect(record.sessionID == "run-1")
        #expect(record.userID == "u-1")
        #expect(record.agentName == "planner")
        #expect(record.appID == "my-agent")
        #expect(record.tokensIn == 1000 && record.tokensOut == 100 && record.tokensCacheRead == 400)
        #expect(record.statusCode == 200 && record.outcome == "completed" && record.errorDetail == nil)
        #expect(record.latencyMS == 750)
        #expect(record.timestampMicros == 1_765_000_000_000_000)
        #expect(record.stopReason == "stop")
        #expect(record.temperature == 0.5 && record.maxTokens == 64)
        #expect(record.messages == [.object(["role": .string("user"), "content": .string("hello")])])
        #expect(record.content == "hi!")
        #expect(record.toolCalls == [ToolCall(id: "c1", name: "search", arguments: #"{"q":"x"}"#)])
        // The same price as a sidecar's call of the same usage: 600 uncached, 400 cached, 100 out.
        let price = try #require(PriceTable.builtIn.price(for: "gpt-4o-2024-08-06"))
        var usage = TokenUsage(convention: .inputIncludesCache)
        (usage.input, usage.output, usage.cacheRead) = (1000, 100, 400)
        #expect(record.costUSD == usage.cost(at: price))
        #expect(record.priceTable == PriceTable.builtIn.version)
    }

    @Test func deprecatedAndOpenInferenceNamesAreRead() throws {
        let openLLMetry = Self.span(
            id: 3,
            [
                "gen_ai.system": "Anthropic", "gen_ai.request.model": "claude-sonnet-4-5", "gen_ai.usage.prompt_tokens": 50,
                "gen_ai.usage.completion_tokens": 5, "llm.request.type": "chat", "gen_ai.prompt.0.role": "user",
                "gen_ai.prompt.0.content": "ping", "gen_ai.completion.0.content": "pong",
            ])
        let openInference = Self.span(
            id: 4,
            [
                "openinference.span.kind": "LLM", "llm.model_name": "gpt-4o-mini", "llm.provider": "openai",
                "llm.token_count.prompt": "12", "llm.token_count.completion": 3, "input.value": "what is 2+2?",
                "output.value": "4", "session.id": "sess-oi", "user.id": "user-oi",
            ])
        let reading = reader.read(Self.request([openLLMetry, openInference]))
        #expect(reading.records.count == 2 && reading.notLLM == 0)
        let first = reading.records[0]
        #expect(first.provider == "anthropic" && first.modelID == "claude-sonnet-4-5")
        #expect(first.tokensIn == 50 && first.tokensOut == 5)
        #expect(first.messages == [.object(["role": .string("user"), "content": .string("ping")])])
        #expect(first.content == "pong")
        #expect(first.costUSD != nil)
        // No session attribute: the trace is the session.
        #expect(first.sessionID == String(repeating: "01", count: 16))
        let second = reading.records[1]
        #expect(second.modelID == "gpt-4o-mini" && second.tokensIn == 12 && second.tokensOut == 3)
        #expect(second.sessionID == "sess-oi" && second.userID == "user-oi")
        #expect(second.messages == [.object(["role": .string("user"), "content": .string("what is 2+2?")])])
        #expect(second.content == "4")
    }

    @Test func otherSpansAreCountedNotRecorded() {
        let spans = [
            Self.span(id: 5, ["gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "planner"]),
            Self.span(id: 6, ["gen_ai.operation.name": "execute_tool"]),
            Self.span(id: 7, ["gen_ai.operation.name": "embeddings", "gen_ai.request.model": "text-embedding-3-small"]),
            Self.span(id: 8, ["openinference.span.kind": "CHAIN"]),
            Self.span(id: 9, ["http.request.method": "GET"]),
        ]
        let reading = reader.read(Self.request(spans))
        #expect(reading.records.isEmpty && reading.notLLM == 5)
    }

    @Test func theSameSpanIsTheSameActionAndParentsLinkWithinARequest() {
        let parent = Self.span(id: 10, ["gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o"])
        let child = Self.span(id: 11, parent: 10, ["gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o"])
        let orphan = Self.span(id: 12, parent: 99, ["gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o"])
        let reading = reader.read(Self.request([parent, child, orphan]))
        #expect(reading.records[1].parentActionID == reading.records[0].actionID)
        #expect(reading.records[2].parentActionID == nil)
        #expect(reader.read(Self.request([parent])).records[0].actionID == reading.records[0].actionID)
        // Same span id in another trace: another call.
        let elsewhere = Self.span(trace: 2, id: 10, ["gen_ai.operation.name": "chat"])
        #expect(OTLPSpanReader.actionID(of: elsewhere) != reading.records[0].actionID)
        #expect(reading.records[0].actionID.count == 36)
    }

    @Test func anErrorSpanIsAFailedCall() throws {
        let span = Self.span(
            id: 13, ["gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o", "http.response.status_code": 503],
            error: true)
        let record = try #require(reader.read(Self.request([span])).records.first)
        #expect(record.statusCode == 503)
        #expect(record.outcome == "upstream_failed")
        #expect(record.errorDetail == "span status ERROR: boom")
    }

    @Test func badTokenCountsAreNotCounted() throws {
        let span = Self.span(
            id: 14,
            [
                "gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o", "gen_ai.usage.input_tokens": -5,
                "gen_ai.usage.output_tokens": 2_000_000_000,
            ])
        let reading = reader.read(Self.request([span]))
        let record = try #require(reading.records.first)
        #expect(record.tokensIn == nil && record.tokensOut == nil && record.costUSD == nil)
        #expect(reading.rejectedUsageCounts == 2)
        #expect(record.errorDetail?.contains("not a token count") == true)
    }
}
