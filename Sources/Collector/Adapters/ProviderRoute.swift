import LedgerProviders

/// Which wire format a captured call speaks and the adapter that reads it. The format comes from the provider
/// descriptions' path rule (`ProviderFormat.matching`), the one the sidecar captures by, so a record is read as the
/// format it was captured as; a path no format claims (a record from an older sidecar) reads as chat completions.
struct ProviderRoute: Sendable, Equatable {
    let format: ProviderFormat

    init(path: String) {
        format = ProviderFormat.matching(path: ProviderPaths.path(of: path)) ?? .openAIChat
    }

    var provider: String { format.described.provider }

    var adapter: any ProviderAdapter.Type {
        switch format {
        case .openAIChat: OpenAIChatAdapter.self
        case .anthropicMessages: AnthropicMessagesAdapter.self
        case .openAIResponses: OpenAIResponsesAdapter.self
        }
    }
}
