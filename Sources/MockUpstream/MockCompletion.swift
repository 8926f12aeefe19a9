/// The provider-neutral answer to a request: text, tool calls and token counts, all derived from the request.
struct MockCompletion: Sendable {
    /// Nil for the OpenAI tool-call answer, which has no text.
    let text: String?
    let toolCalls: [MockToolCall]
    let promptTokens: Int
    let completionTokens: Int
    let cacheReadTokens: Int
    let cacheWriteTokens: Int
    let reasoningTokens: Int

    /// Fixed `created` time of every answer, so answers never depend on the clock.
    static let created = 1_700_000_000

    init(request: MockRequest, scenario: MockScenario, provider: MockProvider) {
        if scenario == .toolCall {
            let idPrefix = provider.family == .openAI ? "call_" : "toolu_"
            toolCalls = MockToolCall.weatherAndTime(idPrefix: idPrefix, digest: request.digest)
            text = provider == .anthropic ? "I'll look up the weather and the time in Paris." : nil
        } else {
            toolCalls = []
            text = request.lastUserText.isEmpty ? "Echo: (no text)" : "Echo: \(request.lastUserText)"
        }
        let basePrompt = MockRequest.tokens(forCharacters: request.promptCharacters)
        let outputCharacters = (text?.count ?? 0) + toolCalls.reduce(0) { $0 + $1.arguments.count }
        reasoningTokens = scenario == .reasoning ? 64 : 0
        completionTokens = MockRequest.tokens(forCharacters: outputCharacters) + reasoningTokens
        switch (scenario, provider.family) {
        case (.cache, .openAI):
            cacheReadTokens = 1024
            cacheWriteTokens = 0
            promptTokens = basePrompt + 1024
        case (.cache, .anthropic):
            cacheReadTokens = 2048
            cacheWriteTokens = 512
            promptTokens = basePrompt
        default:
            cacheReadTokens = 0
            cacheWriteTokens = 0
            promptTokens = basePrompt
        }
    }

    /// The text cut into at most four pieces on word boundaries, as a stream delivers it.
    var textPieces: [String] {
        guard let text, !text.isEmpty else { return [] }
        var words: [String] = []
        var current = ""
        for character in text {
            if character == " ", !current.isEmpty, current.last != " " {
                words.append(current)
                current = ""
            }
            current.append(character)
        }
        words.append(current)
        let perPiece = (words.count + 3) / 4
        return stride(from: 0, to: words.count, by: perPiece).map {
            words[$0..<min($0 + perPiece, words.count)].joined()
        }
    }
}
