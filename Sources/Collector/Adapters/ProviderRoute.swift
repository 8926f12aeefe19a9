/// Which wire format a captured call speaks, decided by the path's last segments (never by a substring such
/// as "messages" anywhere in it).
enum ProviderRoute: Sendable, Equatable {
    case openAIChat
    case anthropicMessages
    case openAIResponses

    init(path: String) {
        var route = Substring(path)
        if let query = route.firstIndex(where: { $0 == "?" || $0 == "#" }) { route = route[..<query] }
        while route.count > 1, route.hasSuffix("/") { route = route.dropLast() }
        let lowered = route.lowercased()
        if lowered == "/v1/messages" || lowered.hasSuffix("/v1/messages") {
            self = .anthropicMessages
        } else if lowered.hasSuffix("/responses") {
            self = .openAIResponses
        } else {
            self = .openAIChat
        }
    }

    var provider: String {
        switch self {
        case .anthropicMessages: "anthropic"
        case .openAIChat, .openAIResponses: "openai"
        }
    }

    var adapter: any ProviderAdapter.Type {
        switch self {
        case .openAIChat: OpenAIChatAdapter.self
        case .anthropicMessages: AnthropicMessagesAdapter.self
        case .openAIResponses: OpenAIResponsesAdapter.self
        }
    }
}
