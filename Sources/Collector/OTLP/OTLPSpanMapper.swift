import Foundation
import OTLPProto

/// A stored call as an OpenTelemetry span (docs/reference.md, "OpenTelemetry"): name `chat {model}`, kind CLIENT,
/// the call's real start and end, GenAI attributes, `agentledger.*` for the rest. Pure: no clock, no I/O.
package struct OTLPSpanMapper: Sendable {
    /// `service.name` of the resource (`AGENTLEDGER_OTEL_SERVICE_NAME`).
    package var serviceName: String
    /// Also export prompts and outputs (`AGENTLEDGER_OTEL_CAPTURE_CONTENT`).
    package var captureContent: Bool
    /// The instrumentation scope's version: the collector's.
    package var version: String

    package init(serviceName: String, captureContent: Bool, version: String) {
        self.serviceName = serviceName
        self.captureContent = captureContent
        self.version = version
    }

    /// The name of the event that marks a stream's first token.
    package static let firstTokenEvent = "gen_ai.first_token"

    /// One export request for the records: one resource per sidecar source (`host.name`, `service.instance.id`), so
    /// a backend groups the spans by pod; the records' order is kept within each resource.
    package func request(for records: some Sequence<CallRecord>)
        -> Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest
    {
        var order: [String?] = []
        var spansBySource: [String?: [Opentelemetry_Proto_Trace_V1_Span]] = [:]
        for record in records {
            if spansBySource[record.source] == nil { order.append(record.source) }
            spansBySource[record.source, default: []].append(span(for: record))
        }
        var scope = Opentelemetry_Proto_Common_V1_InstrumentationScope()
        scope.name = "agentledger"
        scope.version = version
        var request = Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest()
        request.resourceSpans = order.map { source in
            var resource = Opentelemetry_Proto_Resource_V1_Resource()
            resource.attributes = [.string("service.name", serviceName)]
            if let source {
                resource.attributes.append(.string("host.name", source))
                resource.attributes.append(.string("service.instance.id", source))
            }
            var scopeSpans = Opentelemetry_Proto_Trace_V1_ScopeSpans()
            scopeSpans.scope = scope
            scopeSpans.spans = spansBySource[source] ?? []
            var resourceSpans = Opentelemetry_Proto_Trace_V1_ResourceSpans()
            resourceSpans.resource = resource
            resourceSpans.scopeSpans = [scopeSpans]
            return resourceSpans
        }
        return request
    }

    package func span(for record: CallRecord) -> Opentelemetry_Proto_Trace_V1_Span {
        var span = Opentelemetry_Proto_Trace_V1_Span()
        span.traceID = OTLPIdentifiers.traceID(sessionID: record.sessionID, actionID: record.actionID)
        span.spanID = OTLPIdentifiers.spanID(actionID: record.actionID)
        if let parent = record.parentActionID { span.parentSpanID = OTLPIdentifiers.spanID(actionID: parent) }
        span.name = record.modelID.map { "chat \($0)" } ?? "chat"
        span.kind = .client
        let start = Self.nanos(micros: record.timestampMicros)
        span.startTimeUnixNano = start
        span.endTimeUnixNano = Self.adding(milliseconds: record.latencyMS, to: start)
        span.attributes = attributes(of: record)
        if let ttft = record.ttftMS {
            var event = Opentelemetry_Proto_Trace_V1_Span.Event()
            event.name = Self.firstTokenEvent
            event.timeUnixNano = Self.adding(milliseconds: ttft, to: start)
            event.attributes = [.double("agentledger.ttft_ms", ttft)]
            span.events = [event]
        }
        if !Self.isSuccess(record.statusCode) {
            var status = Opentelemetry_Proto_Trace_V1_Status()
            status.code = .error
            status.message = Self.statusMessage(of: record)
            span.status = status
        }
        return span
    }

    private func attributes(of record: CallRecord) -> [Opentelemetry_Proto_Common_V1_KeyValue] {
        var out = MessageAttributes()
        out.keyValues.reserveCapacity(32)
        attributes(of: record, into: &out)
        return out.keyValues
    }

    /// The span's attributes, in order, into `out`: the one list both the messages above and `OTLPSpanEncoder`'s
    /// protobuf bytes are made from.
    func attributes<Sink: OTLPAttributeSink>(of record: CallRecord, into out: inout Sink) {
        out.string("gen_ai.operation.name", "chat")
        if let provider = record.provider {
            out.string("gen_ai.provider.name", provider)
            out.string("gen_ai.system", provider)
        }
        if let model = record.modelID {
            out.string("gen_ai.request.model", model)
            out.string("gen_ai.response.model", model)
        }
        out.int("gen_ai.usage.input_tokens", ifPresent: record.tokensIn)
        out.int("gen_ai.usage.output_tokens", ifPresent: record.tokensOut)
        out.int("gen_ai.usage.cache_read.input_tokens", ifPresent: record.tokensCacheRead)
        out.int("gen_ai.usage.cache_creation.input_tokens", ifPresent: record.tokensCacheWrite)
        out.int("gen_ai.usage.cache_write.input_tokens", ifPresent: record.tokensCacheWrite)
        out.int("gen_ai.usage.reasoning.output_tokens", ifPresent: record.tokensReasoning)
        if let reason = record.stopReason { out.strings("gen_ai.response.finish_reasons", [reason]) }
        out.string("gen_ai.conversation.id", ifPresent: record.sessionID)
        out.string("gen_ai.agent.name", ifPresent: record.agentName)
        if let temperature = record.temperature { out.double("gen_ai.request.temperature", temperature) }
        out.int("gen_ai.request.max_tokens", ifPresent: record.maxTokens)
        out.int("http.response.status_code", ifPresent: record.statusCode)
        if !Self.isSuccess(record.statusCode) {
            out.string("error.type", record.statusCode.map(String.init) ?? record.outcome)
        }
        out.string("agentledger.action_id", record.actionID)
        out.string("agentledger.session_id", ifPresent: record.sessionID)
        out.string("agentledger.user_id", ifPresent: record.userID)
        out.string("agentledger.app_id", ifPresent: record.appID)
        if let cost = record.costUSD { out.double("agentledger.cost_usd", cost) }
        if let latency = record.latencyMS { out.double("agentledger.latency_ms", latency) }
        if let ttft = record.ttftMS { out.double("agentledger.ttft_ms", ttft) }
        out.string("agentledger.environment", ifPresent: record.environment)
        out.string("agentledger.parent_action_id", ifPresent: record.parentActionID)
        out.string("agentledger.handoff_from", ifPresent: record.handoffFrom)
        out.string("agentledger.handoff_to", ifPresent: record.handoffTo)
        out.bool("agentledger.stream", record.stream)
        out.bool("agentledger.blocked", record.blocked)
        out.string("agentledger.outcome", record.outcome)
        out.string("agentledger.source", ifPresent: record.source)
        if captureContent {
            let content = OTLPContentParts(record: record)
            out.string("gen_ai.system_instructions", ifPresent: content.systemInstructions)
            out.string("gen_ai.input.messages", ifPresent: content.inputMessages)
            out.string("gen_ai.output.messages", ifPresent: content.outputMessages)
        }
    }

    /// The status message of a failed call.
    static func statusMessage(of record: CallRecord) -> String {
        record.errorDetail ?? record.statusCode.map { "HTTP \($0)" } ?? record.outcome
    }

    static func isSuccess(_ status: Int?) -> Bool {
        status.map { (200..<300).contains($0) } ?? false
    }

    /// Microseconds since the epoch as nanoseconds; a time before the epoch is 0 (OTLP times are unsigned).
    static func nanos(micros: Int64) -> UInt64 {
        let (nanos, overflow) = max(micros, 0).multipliedReportingOverflow(by: 1000)
        return overflow ? UInt64(Int64.max) : UInt64(nanos)
    }

    /// `start` plus a duration in milliseconds, saturating; an unknown, negative or non-finite duration adds nothing.
    static func adding(milliseconds: Double?, to start: UInt64) -> UInt64 {
        guard let milliseconds, milliseconds.isFinite, milliseconds > 0 else { return start }
        let nanos = milliseconds * 1_000_000
        guard nanos < Double(UInt64.max - start) else { return UInt64.max }
        return start + UInt64(nanos)
    }
}

extension Opentelemetry_Proto_Common_V1_KeyValue {
    static func string(_ key: String, _ value: String) -> Self {
        make(key) { $0.stringValue = value }
    }

    static func int(_ key: String, _ value: Int) -> Self {
        make(key) { $0.intValue = Int64(value) }
    }

    static func double(_ key: String, _ value: Double) -> Self {
        make(key) { $0.doubleValue = value }
    }

    static func bool(_ key: String, _ value: Bool) -> Self {
        make(key) { $0.boolValue = value }
    }

    static func strings(_ key: String, _ values: [String]) -> Self {
        make(key) { any in
            var array = Opentelemetry_Proto_Common_V1_ArrayValue()
            array.values = values.map { value in
                var element = Opentelemetry_Proto_Common_V1_AnyValue()
                element.stringValue = value
                return element
            }
            any.arrayValue = array
        }
    }

    private static func make(_ key: String, _ fill: (inout Opentelemetry_Proto_Common_V1_AnyValue) -> Void) -> Self {
        var keyValue = Self()
        keyValue.key = key
        var value = Opentelemetry_Proto_Common_V1_AnyValue()
        fill(&value)
        keyValue.value = value
        return keyValue
    }
}

/// Where a span's attributes go (`OTLPSpanMapper.attributes(of:into:)`): messages, or protobuf bytes.
protocol OTLPAttributeSink {
    mutating func string(_ key: String, _ value: String)
    mutating func int(_ key: String, _ value: Int)
    mutating func double(_ key: String, _ value: Double)
    mutating func bool(_ key: String, _ value: Bool)
    mutating func strings(_ key: String, _ values: [String])
}

extension OTLPAttributeSink {
    mutating func string(_ key: String, ifPresent value: String?) {
        if let value { string(key, value) }
    }

    mutating func int(_ key: String, ifPresent value: Int?) {
        if let value { int(key, value) }
    }
}

/// Attributes as swift-protobuf messages.
struct MessageAttributes: OTLPAttributeSink {
    var keyValues: [Opentelemetry_Proto_Common_V1_KeyValue] = []

    mutating func string(_ key: String, _ value: String) { keyValues.append(.string(key, value)) }
    mutating func int(_ key: String, _ value: Int) { keyValues.append(.int(key, value)) }
    mutating func double(_ key: String, _ value: Double) { keyValues.append(.double(key, value)) }
    mutating func bool(_ key: String, _ value: Bool) { keyValues.append(.bool(key, value)) }
    mutating func strings(_ key: String, _ values: [String]) { keyValues.append(.strings(key, values)) }
}
