/// The LLM API an endpoint of the mock imitates.
enum MockProvider: String, Sendable {
    case openAI = "openai"
    /// The OpenAI Responses API (`/v1/responses`): OpenAI's models, ids and error shape.
    case openAIResponses = "openai-responses"
    case anthropic

    /// The model named in answers when the request names none.
    var defaultModel: String {
        switch self {
        case .openAI, .openAIResponses: "gpt-4o-mini"
        case .anthropic: "claude-sonnet-4-5"
        }
    }

    /// The response header that carries the provider's request id.
    var requestIDHeader: String {
        switch self {
        case .openAI, .openAIResponses: "x-request-id"
        case .anthropic: "request-id"
        }
    }

    /// The provider whose error bodies, tool-call ids and cache accounting this API shares.
    var family: MockProvider {
        self == .anthropic ? .anthropic : .openAI
    }
}
