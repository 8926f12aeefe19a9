/// Reads the Anthropic Messages API (`/v1/messages`).
enum AnthropicMessagesAdapter: ProviderAdapter {
    static func readRequest(_ body: JSONValue, into record: inout CallRecord) {
        record.modelID = body["model"]?.stringValue
        let messages = body["messages"]?.arrayValue ?? []
        record.messages = messages
        if let system = body["system"], system != .null {
            record.systemPrompt = MessageText.text(of: system, separator: "\n")
            record.messages.insert(.object(["role": .string("system"), "content": system]), at: 0)
        }
        record.tools = body["tools"] == .null ? nil : body["tools"]
        record.temperature = body["temperature"]?.doubleValue
        record.maxTokens = body["max_tokens"]?.intValue
        record.stream = body["stream"]?.boolValue ?? false
        record.toolResults = toolResults(in: messages)
    }

    /// The `tool_result` blocks of the user messages after the last assistant message: the answers to the
    /// previous call's tool uses, not the whole history's.
    static func toolResults(in messages: [JSONValue]) -> [ToolResult]? {
        let lastAssistant = messages.lastIndex { $0["role"]?.stringValue == "assistant" }
        let answers = messages[(lastAssistant.map { $0 + 1 } ?? 0)...]
        let results = answers.filter { $0["role"]?.stringValue == "user" }.flatMap { message -> [ToolResult] in
            (message["content"]?.arrayValue ?? []).filter { $0["type"]?.stringValue == "tool_result" }.map {
                ToolResult(toolCallID: $0["tool_use_id"]?.stringValue, content: $0["content"] ?? .null)
            }
        }
        return results.isEmpty ? nil : results
    }

    static func readResponse(_ body: JSONValue) -> ResponseReading {
        var reading = ResponseReading()
        reading.model = body["model"]?.stringValue
        reading.stopReason = body["stop_reason"]?.stringValue
        var usage = TokenUsage(convention: .inputExcludesCache)
        merge(body["usage"], into: &usage)
        reading.usage = usage.isUnreported ? nil : usage
        var texts: [String] = []
        for block in body["content"]?.arrayValue ?? [] {
            switch block["type"]?.stringValue {
            case "text":
                if let text = block["text"]?.stringValue { texts.append(text) }
            case "tool_use":
                reading.toolCalls.append(
                    ToolCall(
                        id: block["id"]?.stringValue, name: block["name"]?.stringValue,
                        arguments: JSONWriter.text(of: block["input"] ?? .object([:]))))
            default:
                break
            }
        }
        reading.content = texts.isEmpty ? nil : texts.joined()
        return reading
    }

    static func readStream(_ events: [SSEEvent]) -> ResponseReading {
        var assembler = AnthropicMessagesStream()
        for event in events {
            guard let payload = try? JSONReader.parse(event.data) else { continue }
            assembler.consume(payload, eventName: event.name)
        }
        return assembler.reading
    }

    /// Copies the counts present in a `usage` object; later objects overwrite earlier ones field by field,
    /// which is how `message_delta` usage supersedes `message_start`'s.
    static func merge(_ usage: JSONValue?, into tokens: inout TokenUsage) {
        guard let usage, usage.objectValue != nil else { return }
        tokens.read(\.input, from: usage["input_tokens"], name: "input_tokens")
        tokens.read(\.output, from: usage["output_tokens"], name: "output_tokens")
        tokens.read(\.cacheRead, from: usage["cache_read_input_tokens"], name: "cache_read_input_tokens")
        tokens.read(\.cacheWrite, from: usage["cache_creation_input_tokens"], name: "cache_creation_input_tokens")
        tokens.read(
            \.cacheWriteOneHour, from: usage["cache_creation"]?["ephemeral_1h_input_tokens"],
            name: "ephemeral_1h_input_tokens")
    }
}
