/// A call's prompt and output in the GenAI conventions' parts shape, as JSON text for the span attributes
/// `gen_ai.system_instructions`, `gen_ai.input.messages` and `gen_ai.output.messages` (docs/reference.md,
/// "OpenTelemetry"): messages of `role` and `parts`, each part `text`, `tool_call` or `tool_call_response`.
struct OTLPContentParts {
    var systemInstructions: String?
    var inputMessages: String?
    var outputMessages: String?

    init(record: CallRecord) {
        var system: [JSONValue] = []
        var input: [JSONValue] = []
        for message in record.messages {
            let role = message["role"]?.stringValue
            if role == "system" || role == "developer" {
                system.append(contentsOf: Self.parts(of: message["content"]))
                continue
            }
            if let converted = Self.message(message) { input.append(converted) }
        }
        if system.isEmpty, let prompt = record.systemPrompt { system = [Self.text(prompt)] }
        systemInstructions = system.isEmpty ? nil : JSONWriter.text(of: .array(system))
        inputMessages = input.isEmpty ? nil : JSONWriter.text(of: .array(input))

        var output: [JSONValue] = []
        if let content = record.content, !content.isEmpty { output.append(Self.text(content)) }
        for call in record.toolCalls ?? [] {
            output.append(Self.toolCall(id: call.id, name: call.name, arguments: .string(call.arguments)))
        }
        if !output.isEmpty || record.stopReason != nil {
            let message: JSONValue = .object([
                "role": .string("assistant"), "parts": .array(output),
                "finish_reason": .string(record.stopReason ?? ""),
            ])
            outputMessages = JSONWriter.text(of: .array([message]))
        }
    }

    /// One request message (OpenAI chat, Anthropic messages, or a Responses API input item) in the parts shape.
    private static func message(_ message: JSONValue) -> JSONValue? {
        switch message["type"]?.stringValue {
        case "function_call":
            let call = toolCall(
                id: message["call_id"]?.stringValue, name: message["name"]?.stringValue, arguments: message["arguments"])
            return .object(["role": .string("assistant"), "parts": .array([call])])
        case "function_call_output":
            let response = toolResponse(id: message["call_id"]?.stringValue, response: message["output"])
            return .object(["role": .string("tool"), "parts": .array([response])])
        default:
            break
        }
        let role = message["role"]?.stringValue ?? "user"
        var parts: [JSONValue]
        if role == "tool" {
            parts = [toolResponse(id: message["tool_call_id"]?.stringValue, response: message["content"])]
        } else {
            parts = self.parts(of: message["content"])
        }
        for call in message["tool_calls"]?.arrayValue ?? [] {
            parts.append(
                toolCall(
                    id: call["id"]?.stringValue, name: call["function"]?["name"]?.stringValue,
                    arguments: call["function"]?["arguments"]))
        }
        return .object(["role": .string(role), "parts": .array(parts)])
    }

    /// The parts of a content value: a plain string, or a provider's list of content blocks.
    private static func parts(of content: JSONValue?) -> [JSONValue] {
        switch content {
        case .string(let string): return [text(string)]
        case .array(let blocks): return blocks.map(part)
        default: return []
        }
    }

    private static func part(_ block: JSONValue) -> JSONValue {
        if let string = block.stringValue { return text(string) }
        let type = block["type"]?.stringValue
        switch type {
        case nil, "text", "input_text", "output_text":
            return text(block["text"]?.stringValue ?? "")
        case "tool_use":
            return toolCall(id: block["id"]?.stringValue, name: block["name"]?.stringValue, arguments: block["input"])
        case "tool_result":
            return toolResponse(id: block["tool_use_id"]?.stringValue, response: block["content"])
        default:
            // Images, documents and the like: kept as a part of their own type, without their data.
            return .object(["type": .string(type ?? "unknown")])
        }
    }

    private static func text(_ content: String) -> JSONValue {
        .object(["type": .string("text"), "content": .string(content)])
    }

    /// Arguments sent as a JSON string (OpenAI) are written as the object they hold when they parse.
    private static func toolCall(id: String?, name: String?, arguments: JSONValue?) -> JSONValue {
        var arguments = arguments ?? .null
        if let string = arguments.stringValue, let parsed = try? JSONReader.parse(string) { arguments = parsed }
        return .object([
            "type": .string("tool_call"), "id": id.map(JSONValue.string) ?? .null,
            "name": .string(name ?? ""), "arguments": arguments,
        ])
    }

    private static func toolResponse(id: String?, response: JSONValue?) -> JSONValue {
        let response = MessageText.text(of: response, separator: "\n").map(JSONValue.string) ?? response ?? .null
        return .object(["type": .string("tool_call_response"), "id": id.map(JSONValue.string) ?? .null, "response": response])
    }
}
