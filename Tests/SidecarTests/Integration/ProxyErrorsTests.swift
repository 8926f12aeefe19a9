import Foundation
import LedgerTestSupport
import NIOCore
import NIOPosix
import Sidecar
import Testing

@testable import Sidecar

/// What an agent reads when the upstream fails: a short message of ours naming the upstream, never a library's.
@Suite("Sidecar errors for agents", .serialized, .timeLimit(.minutes(1)))
struct ProxyErrorsTests {
    @Test func aRefusedConnectionIsNamedWithTheUpstreamOrigin() async throws {
        let port = try await Integration.closedPort()
        try await SidecarHarness.run(upstream: .url("http://127.0.0.1:\(port)/base?key=secret")) { harness in
            let answer = try await harness.send(
                .POST, "/v1/chat/completions", headers: [ProxyIntegrationTests.json], body: ProxyIntegrationTests.chatBody)
            #expect(answer.status == 502)
            #expect(answer.errorType == "upstream_unavailable")
            let json = try JSONSerialization.jsonObject(with: Data(answer.body)) as? [String: Any]
            let message = (json?["error"] as? [String: Any])?["message"] as? String
            #expect(message == "could not connect to upstream http://127.0.0.1:\(port): connection refused")
            let call = try #require(await harness.collected(1).first)
            #expect(call.outcomeDetail?.contains("SingleConnectionFailure") == false)
            #expect(call.outcomeDetail?.contains("secret") == false)
        }
    }

    @Test func libraryErrorsBecomeShortWords() {
        #expect(UpstreamFailure.words(for: IOError(errnoCode: ECONNRESET, reason: "read")) == "connection reset")
        #expect(UpstreamFailure.words(for: ChannelError.connectTimeout(.seconds(10))) == "connection timed out after 10 s")
        #expect(UpstreamFailure(IOError(errnoCode: ECONNREFUSED, reason: "connect")).cause != nil)
        #expect(UpstreamAddress("https://api.openai.com/v1")?.origin == "https://api.openai.com:443")
        #expect(UpstreamAddress("http://[::1]:8080")?.origin == "http://[::1]:8080")
    }
}
