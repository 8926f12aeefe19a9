/// The LLM API an endpoint of the mock imitates.
enum MockProvider: String, Sendable {
    case openAI = "openai"
    case anthropic

    /// The model named in answers when the request names none.
    var defaultModel: String {
        switch self {
        case .openAI: "gpt-4o-mini"
        case .anthropic: "claude-sonnet-4-5"
        }
    }

    /// The response header that carries the provider's request id.
    var requestIDHeader: String {
        switch self {
        case .openAI: "x-request-id"
        case .anthropic: "request-id"
        }
    }
}
