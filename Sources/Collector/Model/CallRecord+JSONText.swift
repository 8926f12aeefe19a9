/// Records written as JSON bytes directly, for the read endpoints: the same document `Encodable` gives (keys sorted,
/// every field present, `null` when unknown) at a fraction of `JSONEncoder`'s cost, which dominated a session's read.
extension CallRecord {
    /// A JSON array of `records`.
    static func jsonArray(_ records: [CallRecord]) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(records.count * 2048 + 2)
        output.append(UInt8(ascii: "["))
        for (position, record) in records.enumerated() {
            if position > 0 { output.append(UInt8(ascii: ",")) }
            record.appendJSON(to: &output)
        }
        output.append(UInt8(ascii: "]"))
        return output
    }

    /// Appends this record as one JSON object.
    func appendJSON(to output: inout [UInt8]) {
        var object = JSONObjectWriter(output: output)
        output = []
        object.field("action_id", actionID)
        object.field("agent_name", agentName)
        object.field("app_id", appID)
        object.field("blocked", blocked)
        object.field("content", content)
        object.field("cost_usd", costUSD)
        object.field("environment", environment)
        object.field("error_detail", errorDetail)
        object.field("handoff_from", handoffFrom)
        object.field("handoff_to", handoffTo)
        object.field("latency_ms", latencyMS.map(Self.milliseconds))
        object.field("max_tokens", maxTokens.map(Int64.init))
        object.value("messages", .array(messages))
        object.field("model_id", modelID)
        object.field("outcome", outcome)
        object.field("parent_action_id", parentActionID)
        object.field("price_table", priceTable)
        object.field("provider", provider)
        object.field("session_id", sessionID)
        object.field("source", source)
        object.field("status_code", statusCode.map(Int64.init))
        object.field("stop_reason", stopReason)
        object.field("stream", stream)
        object.field("system_prompt", systemPrompt)
        object.field("temperature", temperature)
        object.field("timestamp", ISOTimestamp.format(micros: timestampMicros))
        object.field("tokens_cache_read", tokensCacheRead.map(Int64.init))
        object.field("tokens_cache_write", tokensCacheWrite.map(Int64.init))
        object.field("tokens_in", tokensIn.map(Int64.init))
        object.field("tokens_out", tokensOut.map(Int64.init))
        object.field("tokens_reasoning", tokensReasoning.map(Int64.init))
        object.value(
            "tool_calls",
            toolCalls.map { calls in
                .array(
                    calls.map { call in
                        .object([
                            "arguments": .string(call.arguments), "id": call.id.map(JSONValue.string) ?? .null,
                            "name": call.name.map(JSONValue.string) ?? .null,
                        ])
                    })
            } ?? .null)
        object.value(
            "tool_results",
            toolResults.map { results in
                .array(
                    results.map { result in
                        .object([
                            "content": result.content,
                            "requested_by": result.requestedBy.map(JSONValue.string) ?? .null,
                            "tool_call_id": result.toolCallID.map(JSONValue.string) ?? .null,
                        ])
                    })
            } ?? .null)
        object.value("tools", tools ?? .null)
        object.field("ttft_ms", ttftMS.map(Self.milliseconds))
        object.field("user_id", userID)
        output = object.finish()
    }
}

/// Writes one JSON object's members in the order given (the caller keeps them sorted).
private struct JSONObjectWriter {
    var output: [UInt8]
    private var first = true

    init(output: [UInt8]) {
        self.output = output
        self.output.append(UInt8(ascii: "{"))
    }

    private mutating func key(_ name: StaticString) {
        if !first { output.append(UInt8(ascii: ",")) }
        first = false
        output.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { output.append(contentsOf: $0) }
        output.append(contentsOf: "\":".utf8)
    }

    mutating func value(_ name: StaticString, _ value: JSONValue) {
        key(name)
        JSONWriter.write(value, to: &output)
    }

    mutating func field(_ name: StaticString, _ value: String?) {
        key(name)
        if let value { JSONWriter.writeString(value, to: &output) } else { output.append(contentsOf: "null".utf8) }
    }

    mutating func field(_ name: StaticString, _ value: Int64?) {
        key(name)
        output.append(contentsOf: (value.map { String($0) } ?? "null").utf8)
    }

    mutating func field(_ name: StaticString, _ value: Double?) {
        key(name)
        JSONWriter.write(value.map(JSONValue.double) ?? .null, to: &output)
    }

    mutating func field(_ name: StaticString, _ value: Bool) {
        key(name)
        output.append(contentsOf: (value ? "true" : "false").utf8)
    }

    mutating func finish() -> [UInt8] {
        output.append(UInt8(ascii: "}"))
        return output
    }
}
