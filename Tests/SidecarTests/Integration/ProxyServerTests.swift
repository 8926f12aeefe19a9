import AsyncHTTPClient
import Foundation
import LedgerProtocol
import LedgerTestSupport
import NIOCore
import NIOHTTP1
import NIOPosix
import Sidecar
import Testing

/// What the SwiftNIO proxy does itself: https upstreams, keep-alive and pipelining on the agent's connection,
/// HTTP/1.0, the head timeout, the metrics page and a graceful shutdown with a stream in flight.
@Suite("Sidecar proxy server", .serialized, .timeLimit(.minutes(2)))
struct ProxyServerTests {
    static let chatBody = ProxyIntegrationTests.chatBody
    static let streamBody = ProxyIntegrationTests.streamBody
    static let json = ("content-type", "application/json")

    // MARK: https upstream

    @Test func httpsUpstreamCarriesCapturedCallsByteForByte() async throws {
        try await SidecarHarness.run(upstream: .mockTLS(trusted: true)) { harness in
            #expect(await harness.linkReady())
            let direct = try await harness.send(
                .POST, "/v1/chat/completions", to: harness.mockBase, headers: [Self.json], body: Self.chatBody)
            let directStream = try await harness.send(
                .POST, "/v1/chat/completions", to: harness.mockBase, headers: [Self.json], body: Self.streamBody)
            let proxied = try await harness.send(.POST, "/v1/chat/completions", headers: [Self.json], body: Self.chatBody)
            let proxiedStream = try await harness.send(.POST, "/v1/chat/completions", headers: [Self.json], body: Self.streamBody)

            #expect(direct.status == 200)
            #expect(proxied.status == 200)
            #expect(!proxied.body.isEmpty)
            #expect(proxied.body == direct.body)
            #expect(proxiedStream.status == 200)
            #expect(proxiedStream.text.hasSuffix("data: [DONE]\n\n"))
            #expect(proxiedStream.body == directStream.body)
            let upstream = try #require(try await harness.lastUpstreamRequest())
            #expect(upstream.path == "/v1/chat/completions")

            let calls = await harness.collected(2)
            try #require(calls.count == 2)
            #expect(calls.map(\.outcome) == [.completed, .completed])
            #expect(calls.map(\.statusCode) == [200, 200])
            #expect(calls[0].responseBody == proxied.body)
            #expect(calls[1].responseBody == proxiedStream.body)
            #expect(calls[0].actionID == proxied.headers.first(name: "x-agentledger-action-id"))
        }
    }

    @Test func httpsUpstreamByIPAddressIsVerifiedAgainstItsIPName() async throws {
        try await SidecarHarness.run(
            upstream: .mockTLS(trusted: true),
            configure: { $0.upstreamURL = $0.upstreamURL.replacingOccurrences(of: "localhost", with: "127.0.0.1") }
        ) { harness in
            let proxied = try await harness.send(.POST, "/v1/chat/completions", headers: [Self.json], body: Self.chatBody)
            #expect(proxied.status == 200, "\(proxied.text)")
            #expect(proxied.text.contains(#""object":"chat.completion""#))
        }
    }

    @Test func httpsUpstreamWithAnUntrustedCertificateIsRefused() async throws {
        try await SidecarHarness.run(upstream: .mockTLS(trusted: false)) { harness in
            #expect(await harness.linkReady())
            let started = ContinuousClock.now
            let answer = try await harness.send(.POST, "/v1/chat/completions", headers: [Self.json], body: Self.chatBody)
            #expect(ContinuousClock.now - started < .seconds(5))
            #expect(answer.status == 502)
            #expect(answer.errorType == "upstream_unavailable")

            let calls = await harness.collected(1)
            let call = try #require(calls.first)
            #expect(call.outcome == .upstreamUnreachable)
            #expect(call.statusCode == nil)
            #expect(call.actionID == answer.headers.first(name: "x-agentledger-action-id"))
            #expect(harness.shipper.counters.value(.upstreamUnreachable) == 1)
        }
    }

    // MARK: The agent's connection

    @Test func twentySequentialCallsOnOneClientAllSucceed() async throws {
        try await SidecarHarness.run { harness in
            #expect(await harness.linkReady())
            var actionIDs: Set<String> = []
            for index in 0..<20 {
                let body = index.isMultiple(of: 2) ? Self.chatBody : Self.streamBody
                let answer = try await harness.send(.POST, "/v1/chat/completions", headers: [Self.json], body: body)
                #expect(answer.status == 200, "call \(index)")
                if let id = answer.headers.first(name: "x-agentledger-action-id") { actionIDs.insert(id) }
            }
            #expect(actionIDs.count == 20)
            let calls = await harness.collected(20)
            #expect(calls.count == 20)
            #expect(calls.allSatisfy { $0.outcome == .completed })
        }
    }

    @Test func oneRawConnectionCarriesSequentialCallsUntilConnectionClose() async throws {
        try await SidecarHarness.run { harness in
            let request = Self.chatRequest(Self.chatBody)
            let (statuses, closing, trailing) = try await RawHTTPConnection.run(port: harness.proxyPort, "keep-alive") {
                connection in
                var statuses: [Int] = []
                for _ in 0..<5 {
                    try await connection.send(request)
                    let response = try #require(try await connection.nextResponse())
                    #expect(response.header("connection") == nil)
                    statuses.append(response.status)
                }
                try await connection.send(Self.chatRequest(Self.chatBody, extraHeaders: "Connection: close\r\n"))
                let closing = try #require(try await connection.nextResponse())
                return (statuses, closing, try await connection.remainingUntilClosed())
            }
            #expect(statuses == [200, 200, 200, 200, 200])
            #expect(closing.status == 200)
            #expect(closing.header("connection")?.lowercased() == "close")
            #expect(closing.text.contains(#""object":"chat.completion""#))
            #expect(trailing.isEmpty)
            #expect(await harness.collected(6).count == 6)
        }
    }

    @Test func http10RequestGetsTheWholeAnswerAndTheConnectionCloses() async throws {
        try await SidecarHarness.run { harness in
            let direct = try await harness.send(
                .POST, "/v1/chat/completions", to: harness.mockBase, headers: [Self.json], body: Self.chatBody)
            let (response, trailing) = try await RawHTTPConnection.run(port: harness.proxyPort, "HTTP/1.0 call") { connection in
                try await connection.send(Self.chatRequest(Self.chatBody, version: "HTTP/1.0"))
                let response = try #require(try await connection.nextResponse())
                return (response, try await connection.remainingUntilClosed())
            }
            #expect(response.statusLine.hasPrefix("HTTP/1.0 200"))
            #expect(response.body == direct.body)
            #expect(response.header("transfer-encoding") == nil)
            #expect(trailing.isEmpty)
            #expect(await harness.collected(1).first?.outcome == .completed)
        }
    }

    @Test func http10StreamIsDelimitedByTheCloseNotChunked() async throws {
        try await SidecarHarness.run { harness in
            let response = try await RawHTTPConnection.run(port: harness.proxyPort, "HTTP/1.0 stream") { connection in
                try await connection.send(Self.chatRequest(Self.streamBody, version: "HTTP/1.0"))
                return try #require(try await connection.nextResponse())
            }
            #expect(response.statusLine.hasPrefix("HTTP/1.0 200"))
            #expect(response.header("transfer-encoding") == nil)
            #expect(response.text.hasPrefix("data: {"))
            #expect(response.text.hasSuffix("data: [DONE]\n\n"))
            let call = try #require(await harness.collected(1).first)
            #expect(call.outcome == .completed)
            #expect(call.responseBody == response.body)
        }
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() async throws {
        try await SidecarHarness.run { harness in
            let pipelined =
                Self.chatRequest(Self.chatBody) + "GET /agentledger/metrics HTTP/1.1\r\nHost: sidecar\r\n\r\n"
                + "GET /v1/models HTTP/1.1\r\nHost: sidecar\r\nConnection: close\r\n\r\n"
            let (responses, trailing) = try await RawHTTPConnection.run(port: harness.proxyPort, "pipelined") { connection in
                try await connection.send(pipelined)
                var responses: [RawHTTPConnection.Response] = []
                for _ in 0..<3 {
                    guard let response = try await connection.nextResponse() else { break }
                    responses.append(response)
                }
                return (responses, try await connection.remainingUntilClosed())
            }
            try #require(responses.count == 3)
            #expect(responses.map(\.status) == [200, 200, 200])
            #expect(responses[0].text.contains(#""object":"chat.completion""#))
            #expect(responses[0].header("x-agentledger-action-id") != nil)
            #expect(responses[1].text.contains("agentledger_sidecar_calls_captured_total"))
            #expect(responses[2].text.contains(#""object":"list""#))
            #expect(responses[2].header("connection")?.lowercased() == "close")
            #expect(trailing.isEmpty)
        }
    }

    @Test func pipelinedRequestAfterARefusedOneIsStillAnswered() async throws {
        try await SidecarHarness.run(configure: { $0.maxBodyBytes = 64 }) { harness in
            let big = String(repeating: "x", count: 100)
            let pipelined =
                Self.chatRequest(big) + "GET /v1/models HTTP/1.1\r\nHost: sidecar\r\nConnection: close\r\n\r\n"
            let responses = try await RawHTTPConnection.run(port: harness.proxyPort, "refused then pipelined") { connection in
                try await connection.send(pipelined)
                var responses: [RawHTTPConnection.Response] = []
                while responses.count < 2, let response = try await connection.nextResponse() { responses.append(response) }
                return responses
            }
            #expect(responses.map(\.status) == [413, 200])
            #expect(responses.last?.text.contains(#""object":"list""#) == true)
        }
    }

    @Test func chunkedUploadOnAnUncapturedPathIsStreamedThrough() async throws {
        try await SidecarHarness.run { harness in
            let chunked =
                "POST /v1/echo HTTP/1.1\r\nHost: sidecar\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n"
                + "Connection: close\r\n\r\n5\r\nhello\r\n1\r\n \r\n6\r\nledger\r\n0\r\n\r\n"
            let response = try await RawHTTPConnection.run(port: harness.proxyPort, "chunked upload") { connection in
                try await connection.send(chunked)
                return try #require(try await connection.nextResponse())
            }
            #expect(response.status == 200)
            #expect(response.text == "hello ledger")
        }
    }

    @Test func largeUncapturedBodyIsForwardedByteExactBothWays() async throws {
        try await SidecarHarness.run { harness in
            let body = String(repeating: "abcdefghijklmnopqrstuvwxyz0123456789", count: (6 << 20) / 36)
            let answer = try await harness.send(.POST, "/v1/echo", headers: [("content-type", "text/plain")], body: body)
            #expect(answer.status == 200)
            #expect(answer.body.count == body.utf8.count)
            #expect(answer.body.elementsEqual(body.utf8))
        }
    }

    // MARK: Local answers and limits

    @Test func metricsAreAnsweredByTheProxyNotForwarded() async throws {
        try await SidecarHarness.run { harness in
            _ = try await harness.send(.POST, "/v1/chat/completions", headers: [Self.json], body: Self.chatBody)
            _ = await harness.collected(1)

            let metrics = try await harness.send(.GET, "/agentledger/metrics")
            #expect(metrics.status == 200)
            #expect(metrics.headers.first(name: "content-type")?.hasPrefix("text/plain") == true)
            #expect(metrics.text.contains("agentledger_sidecar_calls_captured_total 1"), "\(metrics.text)")
            let upstream = try #require(try await harness.lastUpstreamRequest())
            #expect(upstream.path == "/v1/chat/completions", "the metrics request reached the upstream")
        }
    }

    // MARK: Shutdown

    @Test func gracefulShutdownLetsAStreamInFlightFinish() async throws {
        try await SidecarHarness.run { harness in
            #expect(await harness.linkReady())
            let request = harness.slowStreamRequest()
            let client = harness.client
            let (firstChunk, signal) = AsyncStream.makeStream(of: Void.self)
            let agent = Task { [request] in
                let response = try await client.execute(request, timeout: .seconds(20))
                var body: [UInt8] = []
                for try await chunk in response.body {
                    body.append(contentsOf: chunk.readableBytesView)
                    signal.yield()
                }
                return (response.status.code, body)
            }
            try await Integration.within(.seconds(10), "first chunk") {
                for await _ in firstChunk { return }
            }
            let stopping = Task { await harness.stopSidecar() }
            let (status, body) = try await Integration.within(.seconds(15), "the stream to end") { try await agent.value }
            await stopping.value

            #expect(status == 200)
            let text = String(decoding: body, as: UTF8.self)
            #expect(text.hasSuffix("data: [DONE]\n\n"))
            let call = try #require(await harness.collected(1).first, "no record shipped before the link stopped")
            #expect(call.outcome == .completed, "outcome \(call.outcome), detail \(call.outcomeDetail ?? "-")")
            #expect(call.responseBody == body)

            let refused = try? await Integration.within(.seconds(5), "connect after shutdown") {
                try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                    .connect(host: "127.0.0.1", port: harness.proxyPort).get()
            }
            #expect(refused == nil, "the proxy still accepts connections after shutdown")
            try? await refused?.close()
        }
    }

    @Test func gracefulShutdownClosesIdleAgentConnectionsAtOnce() async throws {
        try await SidecarHarness.run { harness in
            let stopped = try await RawHTTPConnection.run(port: harness.proxyPort, "idle connection at shutdown") {
                connection in
                try await connection.send("GET /v1/models HTTP/1.1\r\nHost: sidecar\r\n\r\n")
                #expect(try await connection.nextResponse()?.status == 200)
                let started = ContinuousClock.now
                let stopping = Task { await harness.stopSidecar() }
                let trailing = try await connection.remainingUntilClosed()
                await stopping.value
                #expect(trailing.isEmpty)
                return ContinuousClock.now - started
            }
            // The services are cancelled after 3 s of graceful shutdown: well below that, the proxy closed the
            // idle connection itself.
            #expect(stopped < .seconds(2), "shutdown took \(stopped)")
        }
    }

    // MARK: Helpers

    static func chatRequest(_ body: String, version: String = "HTTP/1.1", extraHeaders: String = "") -> String {
        "POST /v1/chat/completions \(version)\r\nHost: sidecar\r\nContent-Type: application/json\r\n"
            + "Content-Length: \(body.utf8.count)\r\n\(extraHeaders)\r\n\(body)"
    }
}
