import Foundation
import LedgerTestSupport
import NIOCore
import Sidecar
import Testing

/// The bounds on agent connections (docs/operations.md, "Agent connections"), on real sockets: idle and slow
/// connections are closed, connections and buffered bodies are capped, and none of it cuts a long response.
@Suite("Sidecar agent connection limits", .serialized, .timeLimit(.minutes(2)))
struct ProxyLimitsTests {
    static let chatBody = ProxyIntegrationTests.chatBody

    /// Short deadlines so the tests take a second, not a minute.
    static func shortDeadlines(_ proxy: inout ProxyConfiguration) {
        proxy.requestHeadTimeout = .milliseconds(400)
        proxy.requestBodyTimeout = .milliseconds(400)
        proxy.agentIdleTimeout = .milliseconds(400)
    }

    @Test func idleConnectionsAreClosedBeforeAndBetweenRequests() async throws {
        try await SidecarHarness.run(configure: Self.shortDeadlines) { harness in
            let counters = harness.shipper.counters
            let silent = try await RawHTTPConnection.run(port: harness.proxyPort, "silent connection") { connection in
                try await connection.remainingUntilClosed()
            }
            #expect(silent.isEmpty)
            #expect(counters.value(.agentIdleClosed) == 1)

            let (status, trailing) = try await RawHTTPConnection.run(port: harness.proxyPort, "one call then idle") {
                connection in
                try await connection.send(ProxyServerTests.chatRequest(Self.chatBody))
                let response = try #require(try await connection.nextResponse())
                return (response.status, try await connection.remainingUntilClosed())
            }
            #expect(status == 200)
            #expect(trailing.isEmpty)
            #expect(counters.value(.agentIdleClosed) == 2)
            #expect(counters.value(.requestHeadTimeouts) == 0)
        }
    }

    @Test func aHeadThatNeverEndsGets408AndTheConnectionCloses() async throws {
        try await SidecarHarness.run(configure: Self.shortDeadlines) { harness in
            let (response, trailing) = try await RawHTTPConnection.run(port: harness.proxyPort, "slow head") { connection in
                try await connection.send("POST /v1/chat/completions HTTP/1.1\r\nHost: sidecar\r\n")
                // A slowloris: a header line now and then, never the blank line.
                try await Task.sleep(for: .milliseconds(200))
                try await connection.send("X-Slow: 1\r\n")
                let response = try #require(try await connection.nextResponse())
                return (response, try await connection.remainingUntilClosed())
            }
            #expect(response.status == 408)
            #expect(response.text.contains(#""type":"request_timeout""#))
            #expect(trailing.isEmpty)
            #expect(harness.shipper.counters.value(.requestHeadTimeouts) == 1)
            #expect(try await harness.lastUpstreamRequest() == nil)
        }
    }

    @Test(arguments: [true, false])
    func aStalledBodyGets408AndIsNotForwarded(captured: Bool) async throws {
        try await SidecarHarness.run(configure: Self.shortDeadlines) { harness in
            let path = captured ? "/v1/chat/completions" : "/v1/embeddings"
            let (response, trailing) = try await RawHTTPConnection.run(port: harness.proxyPort, "stalled body") { connection in
                try await connection.send(
                    "POST \(path) HTTP/1.1\r\nHost: sidecar\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"model\":"
                )
                let response = try #require(try await connection.nextResponse())
                return (response, try await connection.remainingUntilClosed())
            }
            #expect(response.status == 408)
            #expect(response.text.contains(#""type":"request_timeout""#))
            #expect(response.header("connection") == "close")
            #expect(trailing.isEmpty)
            #expect(harness.shipper.counters.value(.requestBodyTimeouts) == 1)
            if captured { #expect(try await harness.lastUpstreamRequest() == nil) }
            #expect(await Integration.eventually { harness.shipper.counters.value(.captured) == 0 })
        }
    }

    @Test func aSlowStreamOutlivesEveryAgentDeadline() async throws {
        try await SidecarHarness.run(configure: Self.shortDeadlines) { harness in
            // Events 600 ms apart: longer than each agent-side deadline, and the call must still end whole.
            let answer = try await harness.send(
                .POST, "/v1/chat/completions", headers: [ProxyIntegrationTests.json, ("x-mock-delay-ms", "600")],
                body: ProxyIntegrationTests.streamBody)
            #expect(answer.status == 200)
            #expect(answer.text.hasSuffix("data: [DONE]\n\n"))
            let counters = harness.shipper.counters
            #expect(counters.value(.requestBodyTimeouts) == 0)
            #expect(counters.value(.requestHeadTimeouts) == 0)
            #expect(await harness.collected(1).first?.outcome == .completed)
        }
    }

    @Test func connectionsAboveTheCapGet503UntilOneCloses() async throws {
        try await SidecarHarness.run(configure: { $0.maxConnections = 2 }) { harness in
            let port = harness.proxyPort
            let metrics = "GET /agentledger/metrics HTTP/1.1\r\nHost: sidecar\r\n\r\n"
            let refused = try await RawHTTPConnection.run(port: port, "first") { first in
                try await first.send(metrics)
                _ = try #require(try await first.nextResponse())
                return try await RawHTTPConnection.run(port: port, "second") { second in
                    try await second.send(metrics)
                    _ = try #require(try await second.nextResponse())
                    return try await RawHTTPConnection.run(port: port, "third") { third in
                        // The sidecar may answer 503 and close before the request is written: a failed write is the
                        // race, not the outcome; the answer is read either way.
                        try? await third.send(metrics)
                        let response = try #require(try await third.nextResponse())
                        _ = try await third.remainingUntilClosed()
                        return response
                    }
                }
            }
            #expect(refused.status == 503)
            #expect(refused.text.contains(#""type":"sidecar_overloaded""#))
            #expect(refused.text.contains("AGENTLEDGER_MAX_AGENT_CONNECTIONS"))
            #expect(refused.header("retry-after") == "1")
            #expect(harness.shipper.counters.value(.agentConnectionsRefused) == 1)
            // The two closed: room again.
            #expect(await Integration.eventually { harness.sidecarLoad.openConnections == 0 })
            let again = try await harness.send(
                .POST, "/v1/chat/completions", headers: [ProxyIntegrationTests.json], body: Self.chatBody)
            #expect(again.status == 200)
        }
    }

    @Test func bodiesPastTheSharedBufferGet503AndTheRoomComesBack() async throws {
        let configure: (inout ProxyConfiguration) -> Void = {
            $0.maxBodyBytes = 1 << 20
            $0.maxBufferedBodyBytes = 1 << 20
        }
        try await SidecarHarness.run(configure: configure) { harness in
            let port = harness.proxyPort
            let big = #"{"model":"gpt-4o-mini","messages":[{"role":"user","content":""#
            let padding = String(repeating: "a", count: (1 << 20) - big.utf8.count - 4)
            let whole = big + padding + #""}]}"#
            let head = "POST /v1/chat/completions HTTP/1.1\r\nHost: sidecar\r\nContent-Type: application/json\r\n"
            let (refused, held) = try await RawHTTPConnection.run(port: port, "holder") { holder in
                // Holds the whole budget with a declared 1 MiB body, half sent.
                try await holder.send(head + "Content-Length: \(whole.utf8.count)\r\n\r\n" + String(whole.prefix(1000)))
                #expect(await Integration.eventually { harness.sidecarLoad.bufferedBytes == whole.utf8.count })
                let refused = try await RawHTTPConnection.run(port: port, "refused") { other in
                    try await other.send(ProxyServerTests.chatRequest(Self.chatBody))
                    let response = try #require(try await other.nextResponse())
                    _ = try await other.remainingUntilClosed()
                    return response
                }
                try await holder.send(String(whole.dropFirst(1000)))
                return (refused, try #require(try await holder.nextResponse()))
            }
            #expect(refused.status == 503)
            #expect(refused.text.contains("AGENTLEDGER_MAX_BUFFERED_MB"))
            #expect(held.status == 200)
            #expect(harness.shipper.counters.value(.bodyBufferFull) == 1)
            #expect(await Integration.eventually { harness.sidecarLoad.bufferedBytes == 0 })
            let again = try await harness.send(
                .POST, "/v1/chat/completions", headers: [ProxyIntegrationTests.json], body: Self.chatBody)
            #expect(again.status == 200)
            // A chunked body is charged as it grows.
            let chunked = try await RawHTTPConnection.run(port: port, "chunked") { connection in
                let part = String(whole.prefix(600_000))
                let chunk = String(part.utf8.count, radix: 16) + "\r\n" + part + "\r\n"
                try await connection.send(head + "Transfer-Encoding: chunked\r\n\r\n" + chunk + chunk + "0\r\n\r\n")
                return try #require(try await connection.nextResponse()).status
            }
            #expect(chunked == 413)
            #expect(await Integration.eventually { harness.sidecarLoad.bufferedBytes == 0 })
        }
    }
}
