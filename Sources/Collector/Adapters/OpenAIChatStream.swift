/// Assembles an OpenAI Chat Completions stream, chunk by chunk, into one response.
///
/// Only choice 0 counts. Content deltas are concatenated; tool calls are accumulated by their `index` (id and
/// name when they appear, argument fragments concatenated); the last non-null `finish_reason` wins; usage comes
/// from the chunk that carries it (the last chunk, when `stream_options.include_usage` is on).
struct OpenAIChatStream {
    private struct PartialToolCall {
        var id: String?
        var name: String?
        var arguments = ""
    }

    private var model: String?
    private var serviceTier: String?
    private var content = ""
    private var refusal = ""
    private var toolCalls: [Int: PartialToolCall] = [:]
    private var legacyCall: PartialToolCall?
    private var stopReason: String?
    private var usage: TokenUsage?
    private var errorMessage: String?

    mutating func consume(_ chunk: JSONValue) {
        if model == nil { model = chunk["model"]?.stringValue }
        if let tier = chunk["service_tier"]?.stringValue { serviceTier = tier }
        if let message = UpstreamError.message(in: chunk, lenient: false) { errorMessage = message }
        if let tokens = OpenAIChatAdapter.usage(from: chunk["usage"]) { usage = tokens }
        let choice = chunk["choices"]?.arrayValue?.first { ($0["index"]?.intValue ?? 0) == 0 }
        guard let choice else { return }
        if let reason = choice["finish_reason"]?.stringValue { stopReason = reason }
        guard let delta = choice["delta"] else { return }
        if let text = MessageText.text(of: delta["content"], separator: "") { content += text }
        if let text = delta["refusal"]?.stringValue { refusal += text }
        for call in delta["tool_calls"]?.arrayValue ?? [] {
            consumeToolCall(call)
        }
        if let function = delta["function_call"], function.objectValue != nil {
            var call = legacyCall ?? PartialToolCall()
            if let name = function["name"]?.stringValue { call.name = name }
            if let fragment = function["arguments"]?.stringValue { call.arguments += fragment }
            legacyCall = call
        }
    }

    private mutating func consumeToolCall(_ delta: JSONValue) {
        let id = delta["id"]?.stringValue
        let slot: Int
        if let index = delta["index"]?.intValue {
            slot = index
        } else if let id, let existing = toolCalls.first(where: { $0.value.id == id })?.key {
            slot = existing
        } else if id == nil, let last = toolCalls.keys.max() {
            slot = last
        } else if let highest = toolCalls.keys.max() {
            // A provider's index of `Int.max` is kept, not overflowed (Fuzz/corpus/sse).
            let (next, overflow) = highest.addingReportingOverflow(1)
            slot = overflow ? highest : next
        } else {
            slot = 0
        }
        var call = toolCalls[slot] ?? PartialToolCall()
        if let id { call.id = id }
        let function = delta["function"] ?? delta["custom"]
        if let name = function?["name"]?.stringValue { call.name = name }
        if let fragment = function?["arguments"] ?? function?["input"], fragment != .null {
            call.arguments += OpenAIChatAdapter.argumentsText(fragment)
        }
        toolCalls[slot] = call
    }

    var reading: ResponseReading {
        var reading = ResponseReading()
        reading.model = model
        reading.serviceTier = serviceTier
        if !content.isEmpty {
            reading.content = content
        } else if !refusal.isEmpty {
            reading.content = refusal
        }
        reading.toolCalls = toolCalls.keys.sorted().compactMap { toolCalls[$0] }.map {
            ToolCall(id: $0.id, name: $0.name, arguments: $0.arguments)
        }
        if let legacyCall {
            reading.toolCalls.append(ToolCall(id: nil, name: legacyCall.name, arguments: legacyCall.arguments))
        }
        reading.stopReason = stopReason
        reading.usage = usage
        reading.errorMessage = errorMessage
        return reading
    }
}
