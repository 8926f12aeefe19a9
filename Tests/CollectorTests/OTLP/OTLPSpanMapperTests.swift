import Crypto
import Foundation
import OTLPProto
import Testing

@testable import Collector

/// A stored call as a span: the ids, names and attributes of docs/reference.md, "OpenTelemetry".
@Suite struct OTLPSpanMapperTests {
    static let mapper = OTLPSpanMapper(serviceName: "ledger-test", captureContent: false, version: "9.9.9")

    static func sha256(_ text: String, bytes: Int) -> Data {
        Data(SHA256.hash(data: Data(text.utf8)).prefix(bytes))
    }

    static func record(_ actionID: String = "0193a1b2-0000-7000-8000-000000000001") -> CallRecord {
        var record = CallRecord(actionID: actionID, timestampMicros: 1_765_000_000_123_456)
        record.sessionID = "run-1"
        record.modelID = "gpt-4o-mini"
        record.provider = "openai"
        record.tokensIn = 120
        record.tokensOut = 30
        record.tokensCacheRead = 100
        record.tokensCacheWrite = 7
        record.tokensReasoning = 12
        record.costUSD = 0.000_123_45
        record.latencyMS = 250.5
        record.statusCode = 200
        record.stopReason = "stop"
        record.agentName = "planner"
        record.userID = "user-9"
        record.appID = "app-3"
        record.environment = "production"
        record.temperature = 0.2
        record.maxTokens = 512
        record.source = "pod-7"
        return record
    }

    static func attributes(_ span: Opentelemetry_Proto_Trace_V1_Span) -> [String: Opentelemetry_Proto_Common_V1_AnyValue] {
        Dictionary(span.attributes.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
    }

    @Test func idsFollowTheSHA256RuleForANonUUIDSession() {
        let span = Self.mapper.span(for: Self.record())
        #expect(span.traceID == Self.sha256("run-1", bytes: 16))
        #expect(span.spanID == Self.sha256("0193a1b2-0000-7000-8000-000000000001", bytes: 8))
        #expect(span.parentSpanID.isEmpty)
        #expect(span.name == "chat gpt-4o-mini")
        #expect(span.kind == .client)
        #expect(span.startTimeUnixNano == 1_765_000_000_123_456_000)
        #expect(span.endTimeUnixNano == 1_765_000_000_123_456_000 + 250_500_000)
        #expect(span.status.code == .unset)
    }

    @Test func aCallWithoutSessionIsItsOwnTrace() {
        var record = Self.record("action-without-session")
        record.sessionID = nil
        let span = Self.mapper.span(for: record)
        #expect(span.traceID == Self.sha256("action-without-session", bytes: 16))
        #expect(Self.attributes(span)["gen_ai.conversation.id"] == nil)
    }

    @Test func aHandoffsParentIsTheParentCallsSpan() {
        var child = Self.record("child-action")
        child.parentActionID = "parent-action"
        child.handoffFrom = "planner"
        child.handoffTo = "coder"
        let span = Self.mapper.span(for: child)
        #expect(span.parentSpanID == Self.mapper.span(for: Self.record("parent-action")).spanID)
        #expect(span.traceID == Self.mapper.span(for: Self.record("parent-action")).traceID)
        let attributes = Self.attributes(span)
        #expect(attributes["agentledger.handoff_from"]?.stringValue == "planner")
        #expect(attributes["agentledger.handoff_to"]?.stringValue == "coder")
        #expect(attributes["agentledger.parent_action_id"]?.stringValue == "parent-action")
    }

    @Test func anErrorCallHasStatusError() {
        var record = Self.record()
        record.statusCode = 429
        record.errorDetail = "rate limited upstream"
        let span = Self.mapper.span(for: record)
        #expect(span.status.code == .error)
        #expect(span.status.message == "rate limited upstream")
        #expect(Self.attributes(span)["error.type"]?.stringValue == "429")
        #expect(Self.attributes(span)["http.response.status_code"]?.intValue == 429)

        var unreachable = Self.record()
        unreachable.statusCode = nil
        unreachable.outcome = "upstream_unreachable"
        #expect(Self.mapper.span(for: unreachable).status.code == .error)
        #expect(Self.attributes(Self.mapper.span(for: unreachable))["error.type"]?.stringValue == "upstream_unreachable")
    }

    @Test func attributesCarryTheGenAINamesOldAndNew() {
        let attributes = Self.attributes(Self.mapper.span(for: Self.record()))
        #expect(attributes["gen_ai.operation.name"]?.stringValue == "chat")
        #expect(attributes["gen_ai.provider.name"]?.stringValue == "openai")
        #expect(attributes["gen_ai.system"]?.stringValue == "openai")
        #expect(attributes["gen_ai.request.model"]?.stringValue == "gpt-4o-mini")
        #expect(attributes["gen_ai.response.model"]?.stringValue == "gpt-4o-mini")
        #expect(attributes["gen_ai.usage.input_tokens"]?.intValue == 120)
        #expect(attributes["gen_ai.usage.output_tokens"]?.intValue == 30)
        #expect(attributes["gen_ai.usage.cache_read.input_tokens"]?.intValue == 100)
        #expect(attributes["gen_ai.usage.cache_creation.input_tokens"]?.intValue == 7)
        #expect(attributes["gen_ai.usage.cache_write.input_tokens"]?.intValue == 7)
        #expect(attributes["gen_ai.usage.reasoning.output_tokens"]?.intValue == 12)
        #expect(attributes["gen_ai.response.finish_reasons"]?.arrayValue.values.map(\.stringValue) == ["stop"])
        #expect(attributes["gen_ai.conversation.id"]?.stringValue == "run-1")
        #expect(attributes["gen_ai.agent.name"]?.stringValue == "planner")
        #expect(attributes["gen_ai.request.temperature"]?.doubleValue == 0.2)
        #expect(attributes["gen_ai.request.max_tokens"]?.intValue == 512)
        #expect(attributes["http.response.status_code"]?.intValue == 200)
        #expect(attributes["agentledger.action_id"]?.stringValue == "0193a1b2-0000-7000-8000-000000000001")
        #expect(attributes["agentledger.session_id"]?.stringValue == "run-1")
        #expect(attributes["agentledger.user_id"]?.stringValue == "user-9")
        #expect(attributes["agentledger.cost_usd"]?.doubleValue == 0.000_123_45)
        #expect(attributes["agentledger.latency_ms"]?.doubleValue == 250.5)
        #expect(attributes["agentledger.environment"]?.stringValue == "production")
        #expect(attributes["error.type"] == nil)
        // Content is opt-in.
        #expect(attributes["gen_ai.input.messages"] == nil && attributes["gen_ai.output.messages"] == nil)
    }

    @Test func aStreamsFirstTokenIsAnEvent() {
        var record = Self.record()
        record.stream = true
        record.ttftMS = 42.5
        let span = Self.mapper.span(for: record)
        #expect(span.events.count == 1)
        #expect(span.events.first?.name == OTLPSpanMapper.firstTokenEvent)
        #expect(span.events.first?.timeUnixNano == span.startTimeUnixNano + 42_500_000)
        #expect(Self.attributes(span)["agentledger.ttft_ms"]?.doubleValue == 42.5)
    }

    @Test func spansGroupByTheSidecarSource() {
        var other = Self.record("b")
        other.source = "pod-8"
        let request = Self.mapper.request(for: [Self.record("a"), other, Self.record("c")])
        #expect(request.resourceSpans.count == 2)
        let resources = request.resourceSpans.map { resourceSpans in
            Dictionary(resourceSpans.resource.attributes.map { ($0.key, $0.value.stringValue) }, uniquingKeysWith: { a, _ in a })
        }
        #expect(resources[0] == ["service.name": "ledger-test", "host.name": "pod-7", "service.instance.id": "pod-7"])
        #expect(resources[1]["host.name"] == "pod-8")
        #expect(request.resourceSpans[0].scopeSpans[0].spans.map(\.name).count == 2)
        #expect(request.resourceSpans[0].scopeSpans[0].scope.name == "agentledger")
        #expect(request.resourceSpans[0].scopeSpans[0].scope.version == "9.9.9")
    }

    @Test func capturedContentUsesThePartsShape() throws {
        var record = Self.record()
        record.messages = [
            .object(["role": .string("system"), "content": .string("be brief")]),
            .object(["role": .string("user"), "content": .string("weather in Paris?")]),
            .object([
                "role": .string("assistant"),
                "tool_calls": .array([
                    .object([
                        "id": .string("call_1"),
                        "function": .object(["name": .string("weather"), "arguments": .string(#"{"city":"Paris"}"#)]),
                    ])
                ]),
            ]),
            .object(["role": .string("tool"), "tool_call_id": .string("call_1"), "content": .string("sunny")]),
        ]
        record.systemPrompt = "be brief"
        record.content = "It is sunny."
        let mapper = OTLPSpanMapper(serviceName: "s", captureContent: true, version: "1")
        let attributes = Self.attributes(mapper.span(for: record))
        let system = try JSONReader.parse(try #require(attributes["gen_ai.system_instructions"]?.stringValue))
        #expect(system == .array([.object(["type": .string("text"), "content": .string("be brief")])]))
        let input = try JSONReader.parse(try #require(attributes["gen_ai.input.messages"]?.stringValue))
        #expect(input.arrayValue?.count == 3)
        #expect(input[0]?["role"] == .string("user"))
        #expect(input[0]?["parts"]?[0] == .object(["type": .string("text"), "content": .string("weather in Paris?")]))
        #expect(input[1]?["parts"]?[0]?["type"] == .string("tool_call"))
        #expect(input[1]?["parts"]?[0]?["arguments"] == .object(["city": .string("Paris")]))
        #expect(
            input[2]?["parts"]?[0]
                == .object(["type": .string("tool_call_response"), "id": .string("call_1"), "response": .string("sunny")]))
        let output = try JSONReader.parse(try #require(attributes["gen_ai.output.messages"]?.stringValue))
        #expect(output[0]?["role"] == .string("assistant"))
        #expect(output[0]?["finish_reason"] == .string("stop"))
        #expect(output[0]?["parts"]?[0] == .object(["type": .string("text"), "content": .string("It is sunny.")]))
    }

    @Test func timesSaturateInsteadOfTrapping() {
        #expect(OTLPSpanMapper.nanos(micros: -5) == 0)
        #expect(OTLPSpanMapper.nanos(micros: .max) == UInt64(Int64.max))
        #expect(OTLPSpanMapper.adding(milliseconds: .infinity, to: 10) == 10)
        #expect(OTLPSpanMapper.adding(milliseconds: 1e30, to: 10) == .max)
        #expect(OTLPSpanMapper.adding(milliseconds: -3, to: 10) == 10)
    }
}
