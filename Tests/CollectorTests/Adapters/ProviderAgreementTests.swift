import LedgerProviders
import Sidecar
import Testing

@testable import Collector

/// The sidecar (which requests it captures) and the collector (which adapter reads a record) answer from the same
/// provider descriptions: every path the sidecar captures as a format is routed to that format by the collector.
@Suite("Sidecar and collector agree on provider paths")
struct ProviderAgreementTests {
    @Test(arguments: WireFixture.names)
    func everyCorpusPathIsCapturedAndRoutedAlike(name: String) throws {
        let fixture = try WireFixture(name)
        let sidecar = CapturedPaths.format(method: "POST", path: ProviderPaths.path(of: fixture.path))
        let collector = ProviderRoute(path: fixture.path)
        #expect(CapturedPaths.captures(method: "POST", target: fixture.path))
        #expect(sidecar == collector.format)
        #expect(fixture.expected["provider"]?.stringValue == collector.provider)
    }

    @Test(arguments: [
        "/v1/chat/completions", "/v1/chat/completions?x=1", "/v1/messages", "/v1/messages/", "/v1/messages?beta=true",
        "/v1/responses", "/proxy/anthropic/v1/messages", "/messages-archive/v1/chat/completions",
        "/v1/threads/messages/chat/completions", "/openai/deployments/prod-4o/chat/completions?api-version=2024-10-21",
        "/openai/v1/responses", "/v1/chat/completions?note=messages",
    ])
    func everyCapturedPathIsRoutedAsItsFormat(target: String) throws {
        let format = try #require(CapturedPaths.format(method: "POST", path: ProviderPaths.path(of: target)))
        #expect(ProviderRoute(path: target).format == format)
        #expect(ProviderRoute(path: target).provider == format.described.provider)
    }

    @Test(arguments: ["/v1/messages/count_tokens", "/v1/embeddings", "/other/messages", "/v1/models"])
    func anUncapturedPathReadsAsChatCompletionsIfARecordEverHasIt(target: String) {
        #expect(!CapturedPaths.captures(method: "POST", target: target))
        #expect(ProviderRoute(path: target).format == .openAIChat)
    }
}
