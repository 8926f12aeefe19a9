/// The wire formats of the LLM calls AgentLedger captures. Both halves name a format by this: the sidecar when it
/// decides to capture a request, the collector when it picks the adapter that reads the record.
package enum ProviderFormat: Sendable, Hashable, CaseIterable {
    /// OpenAI chat completions, and the gateways that speak it (Azure OpenAI, LiteLLM, OpenRouter, vLLM, …).
    case openAIChat
    /// Anthropic messages.
    case anthropicMessages
    /// The OpenAI Responses API.
    case openAIResponses

    /// What this format is: its paths, its provider, how its streams report usage, where admission reads a request.
    package var described: ProviderDescription {
        switch self {
        case .openAIChat: .openAIChat
        case .anthropicMessages: .anthropicMessages
        case .openAIResponses: .openAIResponses
        }
    }

    /// The format whose path `path` is (from `ProviderPaths.path(of:)`), or nil for a path no format claims.
    ///
    /// The one matching rule of both halves: the path ends with a format's `pathSuffix`, which begins with a `/`
    /// so it matches whole segments only. Whatever precedes it is a gateway's own prefix (`/openai/deployments/x`
    /// before `/chat/completions`, `/proxy/anthropic` before `/v1/messages`). Byte for byte, case-sensitive (as the
    /// providers route), and allocation-free: it runs for every proxied request.
    package static func matching(path: Substring) -> ProviderFormat? {
        for format in ordered where format.described.matches(path: path) { return format }
        return nil
    }

    /// Whether a request is a captured LLM call: a `POST` to a path some format claims. Gives that format.
    package static func captured(method: String, path: Substring) -> ProviderFormat? {
        method == "POST" ? matching(path: path) : nil
    }

    /// The order `matching` tries: no suffix is a suffix of another, so the order never decides, but it is fixed.
    private static let ordered: [ProviderFormat] = [.openAIChat, .anthropicMessages, .openAIResponses]
}
