import Hummingbird
import HummingbirdWebSocket
import LedgerTestSupport
import Testing

@testable import Collector

/// `/ws` from a browser on another origin, or through a rebound DNS name, is refused before it upgrades (issue 14
/// item 8): the handshake is not upgraded (Hummingbird answers 400) and the refusal is counted; same-origin and
/// Origin-less clients still connect.
@Suite struct LiveFeedOriginTests {
    /// A live server wired as the collector is: the WebSocket router asks the policy, the HTTP router refuses.
    static func withServer(
        _ policy: HostOriginPolicy, _ body: @escaping @Sendable (Int, AccessCounters) async throws -> Void
    ) async throws {
        let counters = AccessCounters()
        let webSockets = Router(context: BasicWebSocketRequestContext.self)
        LiveFeed().addRoute(to: webSockets, apiKey: nil, policy: policy, counters: counters)
        let router = Router()
        router.add(middleware: HostOriginMiddleware(policy: policy, counters: counters))
        router.get("healthz") { _, _ in "ok" }
        let app = Application(
            router: router, server: .http1WebSocketUpgrade(webSocketRouter: webSockets),
            configuration: .init(address: .hostname("127.0.0.1", port: 0)), logger: Integration.logger)
        try await app.test(.live) { client in
            try await body(try #require(client.port), counters)
        }
    }

    static func expectRefused(port: Int, host: String? = nil, headers: [String]) async {
        do {
            try await WebSocketTestClient.withConnection(port: port, host: host, headers: headers) { _ in }
            Issue.record("upgraded with \(headers)")
        } catch let refused as WebSocketTestClient.HandshakeRefused {
            #expect(refused.description.hasPrefix("HTTP/1.1 400"), "\(refused.description)")
        } catch {
            Issue.record("\(error)")
        }
    }

    @Test func anotherOriginIsRefusedAndCounted() async throws {
        try await Self.withServer(try HostOriginPolicy(apiKeySet: false)) { port, counters in
            await Self.expectRefused(port: port, headers: ["Origin: https://evil.example"])
            await Self.expectRefused(port: port, headers: ["Origin: null"])
            await Self.expectRefused(port: port, headers: ["Origin: http://localhost:\(port)"])
            #expect(counters.value(.origin) == 3)
        }
    }

    @Test func aRebindingHostIsRefusedAndCounted() async throws {
        try await Self.withServer(try HostOriginPolicy(apiKeySet: false)) { port, counters in
            await Self.expectRefused(
                port: port, host: "rebind.evil.example:\(port)", headers: ["Origin: http://rebind.evil.example:\(port)"])
            #expect(counters.value(.host) == 1)
        }
    }

    @Test func sameOriginListedOriginAndNoOriginConnect() async throws {
        let policy = try HostOriginPolicy(allowedOrigins: "https://dash.example.com", apiKeySet: false)
        try await Self.withServer(policy) { port, counters in
            for headers in [[], ["Origin: http://127.0.0.1:\(port)"], ["Origin: https://dash.example.com"]] {
                try await WebSocketTestClient.withConnection(port: port, headers: headers) { client in
                    let first = try await client.receive()
                    #expect(first == .text(#"{"type":"ready"}"#), "\(headers)")
                }
            }
            #expect(counters.value(.origin) == 0)
        }
    }
}
