/// Assembles an Anthropic Messages stream, event by event, into one response.
///
/// Content blocks are kept by index: text deltas build text blocks, `input_json_delta` fragments build tool-use
/// arguments, thinking is not content. Usage starts from `message_start` and each `message_delta` overwrites the
/// counts it carries (its `output_tokens` is cumulative, so the last one wins). An `error` event is the error.
struct AnthropicMessagesStream {
    private enum BlockKind {
        case text
        case toolUse
        case other
    }

    private struct Block {
        var kind: BlockKind
        var text = ""
        var id: String?
        var name: String?
        var initialInput: JSONValue?
    }

    private var model: String?
    private var blocks: [Int: Block] = [:]
    private var stopReason: String?
    private var usage = TokenUsage(convention: .inputExcludesCache)
    private var errorMessage: String?

    mutating func consume(_ payload: JSONValue, eventName: String?) {
        switch payload["type"]?.stringValue ?? eventName {
        case "message_start":
            let message = payload["message"]
            if model == nil { model = message?["model"]?.stringValue }
            if let reason = message?["stop_reason"]?.stringValue { stopReason = reason }
            AnthropicMessagesAdapter.merge(message?["usage"], into: &usage)
        case "content_block_start":
            startBlock(payload["content_block"], at: payload["index"]?.intValue ?? nextIndex)
        case "content_block_delta":
            applyDelta(payload["delta"], at: payload["index"]?.intValue ?? max(nextIndex - 1, 0))
        case "message_delta":
            if let reason = payload["delta"]?["stop_reason"]?.stringValue { stopReason = reason }
            AnthropicMessagesAdapter.merge(payload["usage"], into: &usage)
        case "error":
            errorMessage = UpstreamError.message(in: payload, lenient: true) ?? "stream error"
        default:
            break
        }
    }

    /// The index after the highest so far; a provider's index of `Int.max` is kept, not overflowed (Fuzz/corpus/sse).
    private var nextIndex: Int {
        guard let highest = blocks.keys.max() else { return 0 }
        let (next, overflow) = highest.addingReportingOverflow(1)
        return overflow ? highest : next
    }

    private mutating func startBlock(_ start: JSONValue?, at index: Int) {
        switch start?["type"]?.stringValue {
        case "text":
            blocks[index] = Block(kind: .text, text: start?["text"]?.stringValue ?? "")
        case "tool_use":
            blocks[index] = Block(
                kind: .toolUse, id: start?["id"]?.stringValue, name: start?["name"]?.stringValue,
                initialInput: start?["input"])
        default:
            blocks[index] = Block(kind: .other)
        }
    }

    private mutating func applyDelta(_ delta: JSONValue?, at index: Int) {
        switch delta?["type"]?.stringValue {
        case "text_delta":
            guard let text = delta?["text"]?.stringValue else { return }
            var block = blocks[index] ?? Block(kind: .text)
            if block.kind == .text { block.text += text }
            blocks[index] = block
        case "input_json_delta":
            guard let fragment = delta?["partial_json"]?.stringValue else { return }
            var block = blocks[index] ?? Block(kind: .toolUse)
            if block.kind == .toolUse { block.text += fragment }
            blocks[index] = block
        default:
            break
        }
    }

    var reading: ResponseReading {
        var reading = ResponseReading()
        reading.model = model
        reading.stopReason = stopReason
        reading.usage = usage.isUnreported ? nil : usage
        reading.errorMessage = errorMessage
        let ordered = blocks.keys.sorted().compactMap { blocks[$0] }
        let text = ordered.filter { $0.kind == .text }.map(\.text).joined()
        reading.content = text.isEmpty ? nil : text
        reading.toolCalls = ordered.filter { $0.kind == .toolUse }.map { block in
            ToolCall(id: block.id, name: block.name, arguments: Self.arguments(of: block))
        }
        return reading
    }

    /// The streamed JSON with sorted keys, as a whole response would give it; the raw text if it is cut short.
    private static func arguments(of block: Block) -> String {
        if block.text.isEmpty { return JSONWriter.text(of: block.initialInput ?? .object([:])) }
        guard let input = try? JSONReader.parse(block.text) else { return block.text }
        return JSONWriter.text(of: input)
    }
}
