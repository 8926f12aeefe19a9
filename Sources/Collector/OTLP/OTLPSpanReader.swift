import Crypto
import Foundation
import OTLPProto

/// OTLP spans from OpenTelemetry-instrumented agents as call records (docs/reference.md, "OTLP ingest"): the GenAI
/// conventions, current and deprecated names, OpenInference's `llm.*`, `input.value` / `output.value`, OpenLLMetry's
/// `gen_ai.prompt.N.*`, and the Vercel AI SDK's `ai.*`. Spans that are not LLM calls (agents, tools, chains,
/// embeddings, HTTP) are counted, not recorded. Pure: prices from the table it is given, no clock, no I/O.
package struct OTLPSpanReader: Sendable {
    /// The `source` of every record made from a span.
    package static let source = "otlp"

    package let prices: PriceTable

    package init(prices: PriceTable) {
        self.prices = prices
    }

    /// What one export request held.
    package struct Reading: Sendable {
        package var records: [CallRecord] = []
        /// Spans that are not LLM calls: answered as rejected in the OTLP partial success, never stored.
        package var notLLM = 0
        /// Token counts outside `TokenUsage.countRange`, not counted.
        package var rejectedUsageCounts = 0
    }

    package func read(_ request: Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest) -> Reading {
        var reading = Reading()
        var llmSpans: [(span: Opentelemetry_Proto_Trace_V1_Span, attributes: Attributes, resource: Attributes)] = []
        for resourceSpans in request.resourceSpans {
            let resource = Attributes(resourceSpans.resource.attributes)
            for scopeSpans in resourceSpans.scopeSpans {
                for span in scopeSpans.spans {
                    let attributes = Attributes(span.attributes)
                    if Self.isLLMCall(attributes) {
                        llmSpans.append((span, attributes, resource))
                    } else {
                        reading.notLLM += 1
                    }
                }
            }
        }
        // A call's parent is another call only when that span is an LLM call of the same request.
        var actionIDs: [Data: String] = [:]
        for entry in llmSpans { actionIDs[entry.span.traceID + entry.span.spanID] = Self.actionID(of: entry.span) }
        for entry in llmSpans {
            var record = record(from: entry.span, attributes: entry.attributes, resource: entry.resource, tally: &reading)
            if !entry.span.parentSpanID.isEmpty {
                record.parentActionID = actionIDs[entry.span.traceID + entry.span.parentSpanID]
            }
            reading.records.append(record)
        }
        return reading
    }

    /// The operations that are one model call.
    static let llmOperations: Set<String> = ["chat", "text_completion", "generate_content", "completion", "responses"]

    static func isLLMCall(_ attributes: Attributes) -> Bool {
        if let operation = attributes.string("gen_ai.operation.name") { return llmOperations.contains(operation) }
        if let kind = attributes.string("openinference.span.kind") { return kind.uppercased() == "LLM" }
        if let type = attributes.string("llm.request.type") { return ["chat", "completion"].contains(type) }
        let hasModel = attributes.first(string: "gen_ai.request.model", "gen_ai.response.model", "llm.model_name") != nil
        let hasProvider = attributes.first(string: "gen_ai.provider.name", "gen_ai.system", "llm.provider", "llm.system") != nil
        return hasModel && hasProvider
    }

    /// A UUID made from the trace and span ids: the same span gives the same action id, so a span sent twice is
    /// stored once.
    package static func actionID(of span: Opentelemetry_Proto_Trace_V1_Span) -> String {
        var digest = Array(SHA256.hash(data: Data("otlp:".utf8) + span.traceID + span.spanID).prefix(16))
        digest[6] = (digest[6] & 0x0F) | 0x80  // version 8: application-defined
        digest[8] = (digest[8] & 0x3F) | 0x80  // RFC 9562 variant
        let hex = OTLPIdentifiers.hex(Data(digest))
        let parts = [
            hex.prefix(8), hex.dropFirst(8).prefix(4), hex.dropFirst(12).prefix(4), hex.dropFirst(16).prefix(4),
            hex.dropFirst(20),
        ]
        return parts.joined(separator: "-")
    }

    private func record(
        from span: Opentelemetry_Proto_Trace_V1_Span, attributes: Attributes, resource: Attributes, tally: inout Reading
    ) -> CallRecord {
        let startMicros = Int64(clamping: span.startTimeUnixNano / 1000)
        var record = CallRecord(actionID: Self.actionID(of: span), timestampMicros: startMicros)
        record.source = Self.source
        if span.endTimeUnixNano >= span.startTimeUnixNano {
            record.latencyMS = Double(span.endTimeUnixNano - span.startTimeUnixNano) / 1_000_000
        }
        record.sessionID =
            attributes.first(
                string: "session.id", "gen_ai.conversation.id", "agentledger.session_id", "ai.telemetry.metadata.sessionId",
                "traceloop.association.properties.session_id", "langfuse.session.id")
            ?? (span.traceID.isEmpty ? nil : OTLPIdentifiers.hex(span.traceID))
        record.userID = attributes.first(
            string: "user.id", "enduser.id", "agentledger.user_id", "ai.telemetry.metadata.userId",
            "traceloop.association.properties.user_id", "langfuse.user.id")
        record.agentName = attributes.first(string: "gen_ai.agent.name", "agent.name", "ai.telemetry.functionId")
        record.appID = resource.string("service.name")
        record.environment =
            resource.first(string: "deployment.environment.name", "deployment.environment")
            ?? attributes.string("agentledger.environment") ?? "development"
        record.handoffFrom = attributes.string("agentledger.handoff_from")
        record.handoffTo = attributes.string("agentledger.handoff_to")
        record.provider = Self.provider(attributes)
        record.modelID = attributes.first(
            string: "gen_ai.response.model", "gen_ai.request.model", "llm.model_name", "ai.response.model", "ai.model.id")
        record.temperature = attributes.double("gen_ai.request.temperature")
        record.maxTokens = attributes.int("gen_ai.request.max_tokens")
        record.stream = attributes.bool("gen_ai.request.stream") ?? attributes.bool("llm.is_streaming") ?? false
        record.stopReason =
            attributes.strings("gen_ai.response.finish_reasons")?.first
            ?? attributes.first(
                string: "llm.response.finish_reason", "ai.response.finishReason", "gen_ai.completion.0.finish_reason")
        record.ttftMS = Self.ttft(of: span, attributes: attributes)
        if record.ttftMS != nil { record.stream = true }

        var problems: [String] = []
        let status = attributes.int("http.response.status_code")
        if span.status.code == .error {
            record.statusCode = status
            record.outcome = "upstream_failed"
            let message = span.status.message.isEmpty ? attributes.string("error.type") : span.status.message
            problems.append(message.map { "span status ERROR: \($0)" } ?? "span status ERROR")
        } else {
            // A span without an HTTP status that did not fail is a call that succeeded.
            record.statusCode = status ?? 200
        }

        OTLPSpanContent.read(attributes, into: &record)
        var usage = TokenUsage(convention: .inputIncludesCache)
        usage.read(
            \.input,
            from: attributes.number(
                "gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens", "llm.token_count.prompt", "llm.usage.prompt_tokens",
                "ai.usage.promptTokens"), name: "input_tokens")
        usage.read(
            \.output,
            from: attributes.number(
                "gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens", "llm.token_count.completion",
                "llm.usage.completion_tokens", "ai.usage.completionTokens"), name: "output_tokens")
        usage.read(
            \.cacheRead,
            from: attributes.number(
                "gen_ai.usage.cache_read.input_tokens", "gen_ai.usage.cache_read_input_tokens",
                "llm.token_count.prompt_details.cache_read"), name: "cache_read.input_tokens")
        usage.read(
            \.cacheWrite,
            from: attributes.number(
                "gen_ai.usage.cache_creation.input_tokens", "gen_ai.usage.cache_write.input_tokens",
                "gen_ai.usage.cache_creation_input_tokens", "llm.token_count.prompt_details.cache_write"),
            name: "cache_creation.input_tokens")
        usage.read(
            \.reasoning,
            from: attributes.number("gen_ai.usage.reasoning.output_tokens", "llm.token_count.completion_details.reasoning"),
            name: "reasoning.output_tokens")
        // The conventions count cached tokens inside the input; an instrumentation that reports fewer input tokens
        // than cached ones follows Anthropic's wire format instead, where they are beside it.
        if let input = usage.input, TokenUsage.sum(usage.cacheRead, usage.cacheWrite) > input {
            usage.convention = .inputExcludesCache
        }
        problems.append(contentsOf: usage.rejected)
        tally.rejectedUsageCounts += usage.rejected.count
        if !usage.isEmpty {
            usage.apply(to: &record)
            if let model = record.modelID, let price = prices.price(for: model) {
                record.costUSD = usage.cost(at: price)
                record.priceTable = prices.version
            }
        }
        record.errorDetail = problems.isEmpty ? nil : problems.joined(separator: "; ")
        return record
    }

    /// The provider's name as the conventions write it (`openai`, `anthropic`, `gcp.gemini`...).
    private static func provider(_ attributes: Attributes) -> String? {
        if let name = attributes.first(string: "gen_ai.provider.name", "gen_ai.system", "llm.provider", "llm.system") {
            return name.lowercased()
        }
        // Vercel AI SDK: `openai.chat`, `anthropic.messages`.
        return attributes.string("ai.model.provider").map { String($0.split(separator: ".").first ?? "").lowercased() }
    }

    /// Milliseconds to the first token: an attribute, or the first-token event of the exporters that send one.
    private static func ttft(of span: Opentelemetry_Proto_Trace_V1_Span, attributes: Attributes) -> Double? {
        if let milliseconds = attributes.double("agentledger.ttft_ms") ?? attributes.double("ai.response.msToFirstChunk") {
            return milliseconds >= 0 && milliseconds.isFinite ? milliseconds : nil
        }
        if let seconds = attributes.double("gen_ai.response.time_to_first_chunk"), seconds >= 0, seconds.isFinite {
            return seconds * 1000
        }
        let names: Set<String> = [OTLPSpanMapper.firstTokenEvent, "ai.stream.firstChunk", "first_token", "llm.first_token"]
        guard let event = span.events.first(where: { names.contains($0.name) }),
            event.timeUnixNano >= span.startTimeUnixNano
        else { return nil }
        return Double(event.timeUnixNano - span.startTimeUnixNano) / 1_000_000
    }
}
