/// A span's prompt and output as a record's `messages`, `system_prompt`, `content` and `tool_calls`, from whichever
/// form the instrumentation used: the GenAI parts shape (`gen_ai.input.messages`...), OpenLLMetry's indexed
/// `gen_ai.prompt.N.*` / `gen_ai.completion.N.*`, OpenInference's `llm.input_messages.N.message.*` and
/// `input.value` / `output.value`, or the Vercel AI SDK's `ai.prompt.messages` / `ai.response.text`.
enum OTLPSpanContent {
    /// Most indexed messages read from one span.
    static let maximumIndexedMessages = 1000

    static func read(_ attributes: Attributes, into record: inout CallRecord) {
        var messages: [JSONValue] = []
        if let system = attributes.json("gen_ai.system_instructions") {
            let text = partsText(system.arrayValue ?? [system])
            if let text { messages.append(message(role: "system", content: text)) }
        }
        if let input = attributes.json("gen_ai.input.messages")?.arrayValue {
            messages += input.map(fromParts)
        } else if let indexed = indexed(attributes, prefix: "gen_ai.prompt.", role: ".role", content: ".content"),
            !indexed.isEmpty
        {
            messages += indexed
        } else if let indexed = indexed(
            attributes, prefix: "llm.input_messages.", role: ".message.role", content: ".message.content"), !indexed.isEmpty
        {
            messages += indexed
        } else if let prompt = attributes.json("ai.prompt.messages")?.arrayValue {
            messages += prompt
        } else if let input = attributes.json("input.value") {
            if let list = input["messages"]?.arrayValue {
                messages += list
            } else if let text = input.stringValue {
                messages.append(message(role: "user", content: text))
            }
        }
        record.messages = messages
        record.systemPrompt = messages.first { $0["role"]?.stringValue == "system" }.flatMap {
            MessageText.text(of: $0["content"], separator: "\n")
        }

        if let output = attributes.json("gen_ai.output.messages")?.arrayValue {
            let parts = output.flatMap { $0["parts"]?.arrayValue ?? [] }
            record.content = partsText(parts)
            let calls = parts.filter { $0["type"]?.stringValue == "tool_call" }.map { part in
                ToolCall(
                    id: part["id"]?.stringValue, name: part["name"]?.stringValue,
                    arguments: part["arguments"].map(argumentsText) ?? "{}")
            }
            record.toolCalls = calls.isEmpty ? nil : calls
            if record.stopReason == nil { record.stopReason = output.first?["finish_reason"]?.stringValue }
        } else if let content = attributes.first(
            string: "gen_ai.completion.0.content", "llm.output_messages.0.message.content", "ai.response.text")
        {
            record.content = content
        } else if let output = attributes.json("output.value") {
            record.content =
                output.stringValue ?? MessageText.text(of: output["choices"]?[0]?["message"]?["content"], separator: "")
        }
    }

    /// `prefix` `N` `role` / `content`, for N = 0, 1... until one is missing.
    private static func indexed(_ attributes: Attributes, prefix: String, role: String, content: String) -> [JSONValue]? {
        var messages: [JSONValue] = []
        for index in 0..<maximumIndexedMessages {
            let roleName = attributes.string("\(prefix)\(index)\(role)")
            let text = attributes.string("\(prefix)\(index)\(content)")
            if roleName == nil && text == nil { break }
            messages.append(message(role: roleName ?? "user", content: text ?? ""))
        }
        return messages
    }

    private static func message(role: String, content: String) -> JSONValue {
        .object(["role": .string(role), "content": .string(content)])
    }

    /// A parts-shape message as the chat shape the record stores: text parts joined as its content.
    private static func fromParts(_ message: JSONValue) -> JSONValue {
        let role = message["role"]?.stringValue ?? "user"
        guard let parts = message["parts"]?.arrayValue else { return message }
        var object: [String: JSONValue] = ["role": .string(role), "content": .string(partsText(parts) ?? "")]
        let calls = parts.filter { $0["type"]?.stringValue == "tool_call" }
        if !calls.isEmpty {
            object["tool_calls"] = .array(
                calls.map { part in
                    .object([
                        "id": part["id"] ?? .null, "type": .string("function"),
                        "function": .object([
                            "name": part["name"] ?? .null, "arguments": .string(part["arguments"].map(argumentsText) ?? "{}"),
                        ]),
                    ])
                })
        }
        if let response = parts.first(where: { $0["type"]?.stringValue == "tool_call_response" }) {
            object["tool_call_id"] = response["id"] ?? .null
            object["content"] =
                response["response"].map { $0.stringValue.map(JSONValue.string) ?? .string(JSONWriter.text(of: $0)) }
                ?? .string("")
        }
        return .object(object)
    }

    /// The text parts of a parts list, joined; nil when there are none.
    private static func partsText(_ parts: [JSONValue]) -> String? {
        let texts = parts.compactMap { part -> String? in
            if let string = part.stringValue { return string }
            guard part["type"]?.stringValue == "text" else { return nil }
            return part["content"]?.stringValue ?? part["text"]?.stringValue
        }
        return texts.isEmpty ? nil : texts.joined(separator: "\n")
    }

    private static func argumentsText(_ value: JSONValue) -> String {
        value.stringValue ?? JSONWriter.text(of: value)
    }
}
