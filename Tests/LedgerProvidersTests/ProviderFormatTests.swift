import LedgerProviders
import Testing

/// The one path rule of both halves: a path is a format's when it ends with the format's suffix, whole segments
/// only, whatever gateway prefix comes before; query, fragment and trailing slashes aside.
@Suite struct ProviderFormatTests {
    @Test(arguments: [
        ("/v1/chat/completions", ProviderFormat.openAIChat), ("/v1/chat/completions?x=1", .openAIChat),
        ("/openai/v1/chat/completions", .openAIChat),
        ("/openai/deployments/prod-4o/chat/completions?api-version=2024-10-21", .openAIChat),
        ("/messages-archive/v1/chat/completions", .openAIChat), ("/v1/threads/messages/chat/completions", .openAIChat),
        ("/v1/messages", .anthropicMessages), ("/v1/messages/", .anthropicMessages),
        ("/v1/messages?beta=true", .anthropicMessages), ("/proxy/anthropic/v1/messages", .anthropicMessages),
        ("/v1/responses", .openAIResponses), ("/openai/v1/responses//", .openAIResponses),
        ("/openai/responses?api-version=2025-03-01-preview", .openAIResponses),
    ])
    func aPathIsItsFormatsByItsEnd(target: String, format: ProviderFormat) {
        #expect(ProviderFormat.matching(path: ProviderPaths.path(of: target)) == format)
        #expect(ProviderFormat.captured(method: "POST", path: ProviderPaths.path(of: target)) == format)
        #expect(ProviderFormat.captured(method: "GET", path: ProviderPaths.path(of: target)) == nil)
    }

    @Test(arguments: [
        "/", "", "/v1/messages/count_tokens", "/v1/embeddings", "/v1/completions", "/other/messages", "/v1/models",
        "/v1/chat/completions/abc", "/v1/xchat/completions-x", "/v1/responses/resp_1/cancel", "/v1/xmessages",
        "/V1/MESSAGES", "/v1/messagesx", "/completions", "/v1/echo?path=/v1/messages",
    ])
    func otherPathsAreNoFormats(target: String) {
        #expect(ProviderFormat.matching(path: ProviderPaths.path(of: target)) == nil)
    }

    @Test func pathsLoseQueryFragmentAndTrailingSlashes() {
        #expect(ProviderPaths.path(of: "/v1/messages/?a=1") == "/v1/messages")
        #expect(ProviderPaths.path(of: "/v1/messages#x") == "/v1/messages")
        #expect(ProviderPaths.path(of: "/v1///") == "/v1")
        #expect(ProviderPaths.path(of: "/") == "/")
        #expect(ProviderPaths.path(of: "///") == "/")
        #expect(ProviderPaths.path(of: "?q") == "")
    }

    @Test(arguments: ProviderFormat.allCases)
    func eachDescriptionIsWellFormed(format: ProviderFormat) {
        let described = format.described
        // Its documented path is its own, and its suffix begins a segment.
        #expect(ProviderFormat.matching(path: Substring(described.path)) == format)
        #expect(described.pathSuffix.description.hasPrefix("/"))
        #expect(!described.maxTokensFields.isEmpty)
        // No suffix ends another, so the order formats are tried in never decides.
        for other in ProviderFormat.allCases where other != format {
            #expect(!other.described.matches(path: Substring(described.pathSuffix.description)))
        }
    }

    @Test func onlyChatCompletionsStreamsAskForUsage() {
        #expect(
            ProviderFormat.openAIChat.described.streamUsage
                == .whenAsked(optionKey: "stream_options", member: #""stream_options":{"include_usage":true}"#))
        #expect(ProviderFormat.anthropicMessages.described.streamUsage == .alwaysReported)
        #expect(ProviderFormat.openAIResponses.described.streamUsage == .alwaysReported)
        #expect(Set(ProviderFormat.allCases.map(\.described.provider)) == ["openai", "anthropic"])
    }
}
