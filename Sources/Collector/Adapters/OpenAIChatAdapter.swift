/// Reads OpenAI Chat Completions (`/v1/chat/completions`) and the gateways that copy it.
enum OpenAIChatAdapter: ProviderAdapter {
    static func readRequest(_ body: JSONValue, into record: inout CallRecord) {
        record.modelID = body["model"]?.stringValue
        let messages = body["messages"]?.arrayValue ?? []
        record.messages = messages
        record.systemPrompt = messages.first { message in
            let role = message["role"]?.stringValue
            return role == "system" || role == "developer"
        }.flatMap { MessageText.text(of: $0["content"], separator: "\n") }
        record.tools = nonNull(body["tools"]) ?? nonNull(body["functions"])
        record.temperature = body["temperature"]?.doubleValue
        record.maxTokens = body["max_tokens"]?.intValue ?? body["max_completion_tokens"]?.intValue
        record.stream = body["stream"]?.boolValue ?? false
        record.toolResults = toolResults(in: messages)
    }

    /// The tool answers to the previous assistant turn: the `tool` (or legacy `function`) messages after the last
    /// assistant message. Earlier ones were recorded with the calls they answered.
    static func toolResults(in messages: [JSONValue]) -> [ToolResult]? {
        let lastAssistant = messages.lastIndex { $0["role"]?.stringValue == "assistant" }
        let answers = messages[(lastAssistant.map { $0 + 1 } ?? 0)...]
        let results = answers.compactMap { message -> ToolResult? in
            switch message["role"]?.stringValue {
            case "tool":
                return ToolResult(
                    toolCallID: message["tool_call_id"]?.stringValue, content: message["content"] ?? .null)
            case "function":
                return ToolResult(toolCallID: nil, content: message["content"] ?? .null)
            default:
                return nil
            }
        }
        return results.isEmpty ? nil : results
    }

    static func readResponse(_ body: JSONValue) -> ResponseReading {
        var reading = ResponseReading()
        reading.model = body["model"]?.stringValue
        reading.serviceTier = body["service_tier"]?.stringValue
        reading.usage = usage(from: body["usage"])
        let choice = body["choices"]?[0]
        reading.stopReason = choice?["finish_reason"]?.stringValue
        guard let message = choice?["message"] else { return reading }
        reading.content = MessageText.text(of: message["content"], separator: "")
        if reading.content?.isEmpty ?? true, let refusal = message["refusal"]?.stringValue, !refusal.isEmpty {
            reading.content = refusal
        }
        reading.toolCalls = (message["tool_calls"]?.arrayValue ?? []).map(toolCall)
        if let legacy = message["function_call"], legacy.objectValue != nil {
            reading.toolCalls.append(
                ToolCall(id: nil, name: legacy["name"]?.stringValue, arguments: argumentsText(legacy["arguments"])))
        }
        return reading
    }

    static func readStream(_ events: [SSEEvent]) -> ResponseReading {
        var assembler = OpenAIChatStream()
        for event in events {
            if event.isDoneMarker { break }
            guard let chunk = try? JSONReader.parse(event.data) else { continue }
            assembler.consume(chunk)
        }
        return assembler.reading
    }

    /// Token counts from a `usage` object; `prompt_tokens` already includes `cached_tokens`, and
    /// `reasoning_tokens` are part of `completion_tokens`.
    static func usage(from usage: JSONValue?) -> TokenUsage? {
        guard let usage, usage.objectValue != nil else { return nil }
        var tokens = TokenUsage(convention: .inputIncludesCache)
        tokens.read(\.input, from: usage["prompt_tokens"], name: "prompt_tokens")
        tokens.read(\.output, from: usage["completion_tokens"], name: "completion_tokens")
        tokens.read(\.cacheRead, from: usage["prompt_tokens_details"]?["cached_tokens"], name: "cached_tokens")
        tokens.read(
            \.reasoning, from: usage["completion_tokens_details"]?["reasoning_tokens"], name: "reasoning_tokens")
        return tokens.isUnreported ? nil : tokens
    }

    /// A `tool_calls` entry: a function call, or a custom tool call (`custom.input`).
    static func toolCall(_ call: JSONValue) -> ToolCall {
        let function = call["function"] ?? call["custom"]
        let arguments = function?["arguments"] ?? function?["input"]
        return ToolCall(
            id: call["id"]?.stringValue, name: function?["name"]?.stringValue, arguments: argumentsText(arguments))
    }

    /// Arguments are a JSON string on the wire; a gateway that sends an object gets it serialized.
    static func argumentsText(_ arguments: JSONValue?) -> String {
        switch arguments {
        case .string(let text): text
        case nil, .null: ""
        case let value?: JSONWriter.text(of: value)
        }
    }

    private static func nonNull(_ value: JSONValue?) -> JSONValue? {
        value == .null ? nil : value
    }
}
