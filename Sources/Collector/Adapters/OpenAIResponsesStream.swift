/// Assembles an OpenAI Responses API stream, event by event, into one response.
///
/// Output items are kept by `output_index`: `response.output_item.added` opens one, text, refusal and argument
/// deltas grow it, `response.output_item.done` replaces it with the finished item. A terminal event
/// (`response.completed`, `response.incomplete`, `response.failed`) carries the whole response with usage,
/// which wins when it lists output. An `error` event, or a failed response, is the error; a stream cut
/// short gives the items that arrived.
struct OpenAIResponsesStream {
    private struct PartialItem {
        var item: JSONValue = .object([:])
        var texts: [Int: String] = [:]
        var refusal = ""
        var arguments = ""
        var isDone = false

        /// The item as far as it arrived, in the shape of a finished output item.
        var assembled: JSONValue {
            if isDone { return item }
            var members = item.objectValue ?? [:]
            let type = members["type"]?.stringValue ?? (texts.isEmpty && refusal.isEmpty ? nil : "message")
            switch type {
            case "message":
                var parts: [JSONValue] = texts.keys.sorted().compactMap { texts[$0] }.map {
                    .object(["type": .string("output_text"), "text": .string($0)])
                }
                if !refusal.isEmpty { parts.append(.object(["type": .string("refusal"), "refusal": .string(refusal)])) }
                members["type"] = .string("message")
                members["content"] = .array(parts)
            case "function_call":
                if !arguments.isEmpty { members["arguments"] = .string(arguments) }
            case "custom_tool_call":
                if !arguments.isEmpty { members["input"] = .string(arguments) }
            default:
                break
            }
            return .object(members)
        }
    }

    private var model: String?
    private var items: [Int: PartialItem] = [:]
    private var final: JSONValue?
    private var errorMessage: String?

    mutating func consume(_ payload: JSONValue, eventName: String?) {
        let index = payload["output_index"]?.intValue ?? (items.keys.max() ?? 0)
        switch payload["type"]?.stringValue ?? eventName {
        case "response.created", "response.in_progress", "response.queued":
            if model == nil { model = payload["response"]?["model"]?.stringValue }
        case "response.output_item.added":
            items[index, default: PartialItem()].item = payload["item"] ?? .object([:])
        case "response.output_item.done":
            items[index, default: PartialItem()].item = payload["item"] ?? .object([:])
            items[index, default: PartialItem()].isDone = true
        case "response.output_text.delta":
            let part = payload["content_index"]?.intValue ?? 0
            items[index, default: PartialItem()].texts[part, default: ""] += payload["delta"]?.stringValue ?? ""
        case "response.output_text.done":
            if let text = payload["text"]?.stringValue {
                items[index, default: PartialItem()].texts[payload["content_index"]?.intValue ?? 0] = text
            }
        case "response.refusal.delta":
            items[index, default: PartialItem()].refusal += payload["delta"]?.stringValue ?? ""
        case "response.function_call_arguments.delta", "response.custom_tool_call_input.delta":
            items[index, default: PartialItem()].arguments += payload["delta"]?.stringValue ?? ""
        case "response.function_call_arguments.done":
            if let arguments = payload["arguments"]?.stringValue { items[index, default: PartialItem()].arguments = arguments }
        case "response.completed", "response.incomplete", "response.failed", "response.cancelled":
            final = payload["response"]
            if let failure = final.map(OpenAIResponsesAdapter.readResponse)?.errorMessage { errorMessage = failure }
        case "error":
            errorMessage = UpstreamError.message(in: payload, lenient: true) ?? "stream error"
        default:
            break
        }
    }

    var reading: ResponseReading {
        var reading: ResponseReading
        if let final {
            reading = OpenAIResponsesAdapter.readResponse(final)
            if final["output"]?.arrayValue?.isEmpty ?? true {
                reading.content = nil
                reading.toolCalls = []
                OpenAIResponsesAdapter.read(output: assembledItems, into: &reading)
            }
        } else {
            reading = ResponseReading()
            OpenAIResponsesAdapter.read(output: assembledItems, into: &reading)
        }
        if reading.model == nil { reading.model = model }
        reading.errorMessage = errorMessage
        return reading
    }

    private var assembledItems: [JSONValue] {
        items.keys.sorted().compactMap { items[$0]?.assembled }
    }
}
