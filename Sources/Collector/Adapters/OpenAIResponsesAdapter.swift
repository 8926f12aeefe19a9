/// Reads the OpenAI Responses API (`/v1/responses`).
///
/// The request's `input` is a string (one user message) or a list of items: messages, and the items of earlier
/// turns (`function_call`, `reasoning`, ...) with the tool outputs (`function_call_output`) that answer them.
/// `instructions` is the system prompt, kept first in `messages` as a `system` message like Anthropic's `system`.
/// The response's `output` items give the text, the tool calls (by `call_id`) and reasoning, which is not content.
enum OpenAIResponsesAdapter: ProviderAdapter {
    static func readRequest(_ body: JSONValue, into record: inout CallRecord) {
        record.modelID = body["model"]?.stringValue
        record.temperature = body["temperature"]?.doubleValue
        record.maxTokens = body["max_output_tokens"]?.intValue
        record.stream = body["stream"]?.boolValue ?? false
        record.tools = body["tools"] == .null ? nil : body["tools"]
        let items = inputItems(body["input"])
        record.messages = items
        if let instructions = body["instructions"], instructions != .null {
            record.messages.insert(.object(["role": .string("system"), "content": instructions]), at: 0)
            record.systemPrompt = MessageText.text(of: instructions, separator: "\n")
        }
        if record.systemPrompt == nil {
            record.systemPrompt = items.first { item in
                let role = item["role"]?.stringValue
                return role == "system" || role == "developer"
            }.flatMap { MessageText.text(of: $0["content"], separator: "\n") }
        }
        record.toolResults = toolResults(in: items)
    }

    /// The input as a list of items; a plain string is one user message.
    static func inputItems(_ input: JSONValue?) -> [JSONValue] {
        switch input {
        case .string(let text): [.object(["role": .string("user"), "content": .string(text)])]
        case .array(let items): items
        default: []
        }
    }

    /// The tool outputs after the last item the model produced (assistant message, tool call, reasoning):
    /// the answers to the previous call's tool calls. With `previous_response_id` the input holds only them.
    static func toolResults(in items: [JSONValue]) -> [ToolResult]? {
        let lastModelItem = items.lastIndex(where: isModelOutput)
        let results = items[(lastModelItem.map { $0 + 1 } ?? 0)...].compactMap { item -> ToolResult? in
            guard let type = item["type"]?.stringValue, type.hasSuffix("_call_output") else { return nil }
            return ToolResult(toolCallID: item["call_id"]?.stringValue, content: item["output"] ?? .null)
        }
        return results.isEmpty ? nil : results
    }

    /// An item of an earlier response fed back as input: an assistant message, a `*_call`, a reasoning item.
    private static func isModelOutput(_ item: JSONValue) -> Bool {
        if item["role"]?.stringValue == "assistant" { return true }
        guard let type = item["type"]?.stringValue else { return false }
        return type.hasSuffix("_call") || type == "reasoning" || type == "mcp_list_tools"
            || type == "mcp_approval_request"
    }

    static func readResponse(_ body: JSONValue) -> ResponseReading {
        var reading = ResponseReading()
        reading.model = body["model"]?.stringValue
        reading.serviceTier = body["service_tier"]?.stringValue
        reading.usage = usage(from: body["usage"])
        reading.stopReason = stopReason(of: body)
        read(output: body["output"]?.arrayValue ?? [], into: &reading)
        if body["status"]?.stringValue == "failed" {
            reading.errorMessage = body["error"]?["message"]?.stringValue ?? "response failed"
        }
        return reading
    }

    static func readStream(_ events: [SSEEvent]) -> ResponseReading {
        var assembler = OpenAIResponsesStream()
        for event in events {
            if event.isDoneMarker { break }
            guard let payload = try? JSONReader.parse(event.data) else { continue }
            assembler.consume(payload, eventName: event.name)
        }
        return assembler.reading
    }

    /// `incomplete_details.reason` (`max_output_tokens`, `content_filter`) for an incomplete response, else the
    /// status (`completed`, `failed`, `cancelled`).
    static func stopReason(of response: JSONValue) -> String? {
        let status = response["status"]?.stringValue
        if status == "incomplete" { return response["incomplete_details"]?["reason"]?.stringValue ?? status }
        return status
    }

    /// Content and tool calls of the `output` items; refusal text counts as content when there is no other.
    static func read(output items: [JSONValue], into reading: inout ResponseReading) {
        var texts: [String] = []
        var refusals: [String] = []
        for item in items {
            switch item["type"]?.stringValue {
            case "message":
                for part in item["content"]?.arrayValue ?? [] {
                    switch part["type"]?.stringValue {
                    case "output_text": if let text = part["text"]?.stringValue { texts.append(text) }
                    case "refusal": if let text = part["refusal"]?.stringValue { refusals.append(text) }
                    default: break
                    }
                }
            case "function_call":
                reading.toolCalls.append(
                    ToolCall(
                        id: item["call_id"]?.stringValue ?? item["id"]?.stringValue, name: item["name"]?.stringValue,
                        arguments: OpenAIChatAdapter.argumentsText(item["arguments"])))
            case "custom_tool_call":
                reading.toolCalls.append(
                    ToolCall(
                        id: item["call_id"]?.stringValue ?? item["id"]?.stringValue, name: item["name"]?.stringValue,
                        arguments: OpenAIChatAdapter.argumentsText(item["input"])))
            default:
                break
            }
        }
        if !texts.isEmpty {
            reading.content = texts.joined()
        } else if !refusals.isEmpty {
            reading.content = refusals.joined()
        }
    }

    /// Token counts; `input_tokens` already includes `cached_tokens`, and `reasoning_tokens` are part of
    /// `output_tokens`.
    static func usage(from usage: JSONValue?) -> TokenUsage? {
        guard let usage, usage.objectValue != nil else { return nil }
        var tokens = TokenUsage(convention: .inputIncludesCache)
        tokens.read(\.input, from: usage["input_tokens"], name: "input_tokens")
        tokens.read(\.output, from: usage["output_tokens"], name: "output_tokens")
        tokens.read(\.cacheRead, from: usage["input_tokens_details"]?["cached_tokens"], name: "cached_tokens")
        tokens.read(\.reasoning, from: usage["output_tokens_details"]?["reasoning_tokens"], name: "reasoning_tokens")
        return tokens.isUnreported ? nil : tokens
    }
}
