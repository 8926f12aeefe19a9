import AsyncHTTPClient
import Foundation
import LedgerProtocol
import LedgerTestSupport
import NIOCore
import NIOHTTP1
import Sidecar
import Testing

/// The proxy on real sockets between an HTTP client and the mock upstream, shipping to a fake collector.
@Suite("Sidecar proxy over real sockets", .serialized, .timeLimit(.minutes(2)))
struct ProxyIntegrationTests {
    static let chatBody = #"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"say hello to the ledger please"}]}"#
    static let streamBody =
        #"{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"#
        + #""messages":[{"role":"user","content":"say hello to the ledger please"}]}"#
    static let json = ("content-type", "application/json")

    @Test func plainCallIsForwardedUnchangedAndShippedWithoutCredentials() async throws {
        try await SidecarHarness.run { harness in
            #expect(await harness.linkReady())
            let direct = try await harness.send(
                .POST, "/v1/chat/completions", to: harness.mockBase, headers: [Self.json, ("authorization", "Bearer sk-test")],
                body: Self.chatBody)
            let proxied = try await harness.send(
                .POST, "/v1/chat/completions",
                headers: [
                    Self.json, ("authorization", "Bearer sk-test"), ("x-api-key", "sk-ant-test"), ("cookie", "session=secret"),
                    ("x-agentledger-session-id", "run-1"), ("x-agentledger-agent-name", "planner"),
                    ("x-agentledger-user-id", "user-7"), ("x-agentledger-app-id", "app-9"),
                    ("x-agentledger-environment", "staging"), ("x-agentledger-parent-action-id", "parent-1"),
                    ("x-agentledger-handoff-from", "router"), ("x-agenticledger-handoff-to", "planner"),
                    ("x-agentledger-api-key", "collector-secret"),
                ],
                body: Self.chatBody)

            #expect(direct.status == 200)
            #expect(proxied.status == 200)
            #expect(proxied.body == direct.body)
            let actionID = try #require(proxied.headers.first(name: "x-agentledger-action-id"))
            #expect(proxied.headers.first(name: "x-agentledger-session-id") == "run-1")

            let upstream = try #require(try await harness.lastUpstreamRequest())
            #expect(upstream.path == "/v1/chat/completions")
            #expect(upstream.headers.contains { $0 == ("authorization", "Bearer sk-test") })
            #expect(upstream.headers.contains { $0 == ("x-api-key", "sk-ant-test") })
            #expect(upstream.headers.contains { $0 == ("cookie", "session=secret") })
            #expect(!upstream.headers.contains { $0.0.hasPrefix("x-agentledger-") || $0.0.hasPrefix("x-agenticledger-") })

            let calls = await harness.collected(1)
            try #require(calls.count == 1)
            let call = calls[0]
            #expect(call.actionID == actionID)
            #expect(call.method == "POST")
            #expect(call.path == "/v1/chat/completions")
            #expect(call.source == "harness-sidecar")
            #expect(
                call.metadata
                    == CallMetadata(
                        sessionID: "run-1", userID: "user-7", agentName: "planner", appID: "app-9", parentActionID: "parent-1",
                        environment: "staging", handoffFrom: "router", handoffTo: "planner"))
            #expect(call.requestBody == Array(Self.chatBody.utf8))
            #expect(call.statusCode == 200)
            #expect(call.responseBody == proxied.body)
            #expect(call.outcome == .completed)
            #expect(call.completedMicros > 0)
            #expect((call.firstByteMicros ?? .max) <= call.completedMicros)
            let nowMicros = Int64(Date.now.timeIntervalSince1970 * 1_000_000)
            #expect(abs(nowMicros - call.arrivedAtMicros) < 60_000_000)
            let shippedNames = call.requestHeaders.map { $0.name.lowercased() }
            #expect(shippedNames.contains("content-type"))
            for secret in ["authorization", "x-api-key", "cookie"] { #expect(!shippedNames.contains(secret)) }
            #expect(!shippedNames.contains { $0.hasPrefix("x-agentledger-") || $0.hasPrefix("x-agenticledger-") })

            let hello = try #require(harness.collector?.hellos.first)
            #expect(hello.source == "harness-sidecar")
            #expect(hello.ingestToken == "test-token")
        }
    }

    @Test func streamReachesTheAgentAsItIsProduced() async throws {
        try await SidecarHarness.run { harness in
            let request = harness.slowStreamRequest()
            let client = harness.client
            let (status, chunks) = try await Integration.within(.seconds(20), "slow stream") { [request] in
                let start = ContinuousClock.now
                let response = try await client.execute(request, timeout: .seconds(20))
                var chunks: [(at: Duration, bytes: [UInt8])] = []
                for try await chunk in response.body {
                    chunks.append((ContinuousClock.now - start, Array(chunk.readableBytesView)))
                }
                return (response.status.code, chunks)
            }

            #expect(status == 200)
            let first = try #require(chunks.first)
            let last = try #require(chunks.last)
            // The mock spaces its 8 events 200 ms apart: a buffering proxy would deliver them all at once.
            #expect(last.at - first.at >= .milliseconds(800), "first chunk at \(first.at), last at \(last.at)")
            let body = chunks.flatMap(\.bytes)
            let text = String(decoding: body, as: UTF8.self)
            #expect(text.hasPrefix("data: {"))
            #expect(text.hasSuffix("data: [DONE]\n\n"))

            let calls = await harness.collected(1)
            let call = try #require(calls.first)
            #expect(call.responseBody == body)
            #expect(call.outcome == .completed)
            #expect(call.responseHeader("content-type")?.hasPrefix("text/event-stream") == true)
            let firstByte = try #require(call.firstByteMicros)
            #expect(firstByte < call.completedMicros)
            #expect(call.completedMicros - firstByte >= 800_000)
        }
    }

    @Test func uncapturedPathIsForwardedByteExactAndNotShipped() async throws {
        try await SidecarHarness.run { harness in
            #expect(await harness.linkReady())
            let direct = try await harness.send(.GET, "/v1/models", to: harness.mockBase)
            let proxied = try await harness.send(.GET, "/v1/models", headers: [("x-agentledger-session-id", "run-2")])
            #expect(proxied.status == 200)
            #expect(proxied.body == direct.body)
            #expect(proxied.headers.first(name: "x-agentledger-action-id") == nil)

            // A captured call after it: once that one has arrived, anything shipped before it would have too.
            let chat = try await harness.send(.POST, "/v1/chat/completions", headers: [Self.json], body: Self.chatBody)
            let calls = await harness.collected(1)
            #expect(calls.map(\.actionID) == [chat.headers.first(name: "x-agentledger-action-id")].compactMap { $0 })
            #expect(harness.shipper.counters.value(.captured) == 1)
        }
    }

    @Test func bodyOverTheLimitIsRefusedWith413AndNotForwarded() async throws {
        try await SidecarHarness.run(configure: { $0.maxBodyBytes = 1024 }) { harness in
            let padding = String(repeating: "x", count: 2048)
            let big = #"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"\#(padding)"}]}"#
            let captured = try await harness.send(.POST, "/v1/chat/completions", headers: [Self.json], body: big)
            #expect(captured.status == 413)
            #expect(captured.errorType == "request_too_large")
            let uncaptured = try await harness.send(.POST, "/v1/echo", headers: [Self.json], body: big)
            #expect(uncaptured.status == 413)

            #expect(try await harness.lastUpstreamRequest() == nil)
            #expect(harness.shipper.counters.value(.bodyTooLarge) == 2)
            #expect(harness.shipper.counters.value(.captured) == 0)
        }
    }

    @Test func chunkedBodyOverTheLimitIsRefusedWith413() async throws {
        try await SidecarHarness.run(configure: { $0.maxBodyBytes = 1024 }) { harness in
            var request = HTTPClientRequest(url: harness.proxyBase + "/v1/chat/completions")
            request.method = .POST
            request.headers.add(name: "content-type", value: "application/json")
            let chunks = (0..<3).map { _ in ByteBuffer(string: String(repeating: "y", count: 600)) }
            request.body = .stream(chunks.async, length: .unknown)
            let client = harness.client
            let status = try await Integration.within(.seconds(15), "chunked upload") { [request] in
                try await client.execute(request, timeout: .seconds(15)).status.code
            }
            #expect(status == 413)
            #expect(try await harness.lastUpstreamRequest() == nil)
        }
    }

    @Test func unreachableUpstreamGets502AndIsRecorded() async throws {
        try await SidecarHarness.run(upstream: .closed, configure: { $0.upstreamHeadTimeout = .seconds(4) }) { harness in
            #expect(await harness.linkReady())
            let started = ContinuousClock.now
            let answer = try await harness.send(.POST, "/v1/chat/completions", headers: [Self.json], body: Self.chatBody)
            let elapsed = ContinuousClock.now - started
            #expect(answer.status == 502)
            #expect(answer.errorType == "upstream_unavailable")
            let actionID = answer.headers.first(name: "x-agentledger-action-id")
            #expect(actionID != nil)
            // A refused connection is known at once; the agent must not wait for the head timeout (600 s by default).
            #expect(elapsed < .seconds(3), "502 took \(elapsed), as if refused connections were retried until the deadline")

            let calls = await harness.collected(1)
            let call = try #require(calls.first)
            #expect(call.actionID == actionID)
            #expect(call.outcome == .upstreamUnreachable)
            #expect(call.statusCode == nil)
            #expect(call.outcomeDetail != nil)
            #expect(call.requestBody == Array(Self.chatBody.utf8))
        }
    }

    @Test func clientDisconnectMidStreamIsRecorded() async throws {
        try await SidecarHarness.run { harness in
            let request = harness.slowStreamRequest()
            let client = harness.client
            let (firstChunk, signal) = AsyncStream.makeStream(of: Void.self)
            let agent = Task { [request] in
                let response = try await client.execute(request, timeout: .seconds(20))
                for try await _ in response.body { signal.yield() }
            }
            try await Integration.within(.seconds(10), "first chunk") {
                for await _ in firstChunk { return }
            }
            agent.cancel()
            _ = try? await Integration.within(.seconds(5), "agent task to end") { _ = try? await agent.value }

            let calls = await harness.collected(1, within: .seconds(10))
            let call = try #require(calls.first, "no call shipped after the client went away")
            #expect(call.outcome == .clientDisconnected, "outcome \(call.outcome), detail \(call.outcomeDetail ?? "-")")
            #expect(call.statusCode == 200)
            #expect(!call.responseBody.isEmpty)
            #expect(!String(decoding: call.responseBody, as: UTF8.self).hasSuffix("data: [DONE]\n\n"))
        }
    }

    /// Sends a chat call the mock upstream cuts short (`scenario`); true when the agent's read of the 200 answer
    /// failed rather than ending cleanly.
    static func agentSeesTheAnswerCut(
        _ harness: SidecarHarness, scenario: String, body: String, headers: [(String, String)] = []
    ) async throws -> Bool {
        var request = HTTPClientRequest(url: harness.proxyBase + "/v1/chat/completions")
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        request.headers.add(name: "x-mock-scenario", value: scenario)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(string: body))
        let client = harness.client
        return try await Integration.within(.seconds(15), "cut answer (\(scenario))") { [request] in
            let response = try await client.execute(request, timeout: .seconds(15))
            guard response.status == .ok else { return false }
            do {
                for try await _ in response.body {}
                return false
            } catch {
                return true
            }
        }
    }

    @Test func upstreamDroppingMidStreamIsRecorded() async throws {
        try await SidecarHarness.run { harness in
            let agentSawFailure = try await Self.agentSeesTheAnswerCut(
                harness, scenario: "midstream_error", body: Self.streamBody)
            #expect(agentSawFailure, "the agent's stream ended cleanly although the upstream dropped it")

            let calls = await harness.collected(1)
            let call = try #require(calls.first)
            #expect(call.outcome == .upstreamFailed, "outcome \(call.outcome), detail \(call.outcomeDetail ?? "-")")
            #expect(call.statusCode == 200)
            #expect(!call.responseBody.isEmpty)
        }
    }

    @Test func upstreamDroppingAWholeAnswerHalfwayIsRecordedAndTheAgentSeesItCut() async throws {
        try await SidecarHarness.run { harness in
            let agentSawFailure = try await Self.agentSeesTheAnswerCut(
                harness, scenario: "truncated_body", body: Self.chatBody)
            #expect(agentSawFailure, "the agent got a whole answer although the upstream cut it")

            let calls = await harness.collected(1)
            let call = try #require(calls.first)
            #expect(call.outcome == .upstreamFailed, "outcome \(call.outcome), detail \(call.outcomeDetail ?? "-")")
            #expect(call.statusCode == 200)
            #expect(String(decoding: call.responseBody, as: UTF8.self).hasPrefix(#"{"id":"chatcmpl-truncated""#))
        }
    }

    @Test func closedModeRefusesCapturedCallsWhileNoCollectorIsUp() async throws {
        try await SidecarHarness.run(collector: false, configure: { $0.refuseWhenCollectorDown = true }) { harness in
            let answer = try await harness.send(.POST, "/v1/chat/completions", headers: [Self.json], body: Self.chatBody)
            #expect(answer.status == 503)
            #expect(answer.errorType == "collector_unavailable")
            #expect(try await harness.lastUpstreamRequest() == nil)
            #expect(harness.shipper.counters.value(.refusedCollectorDown) == 1)
        }
    }

    @Test func closedModeForwardsOnceTheLinkIsUp() async throws {
        try await SidecarHarness.run(configure: { $0.refuseWhenCollectorDown = true }) { harness in
            #expect(await harness.linkReady())
            let answer = try await harness.send(.POST, "/v1/chat/completions", headers: [Self.json], body: Self.chatBody)
            #expect(answer.status == 200)
            #expect(await harness.collected(1).count == 1)
        }
    }
}

extension Array where Element: Sendable {
    /// The elements as an async sequence, for streamed request bodies.
    fileprivate var async: AsyncStream<Element> {
        AsyncStream { continuation in
            for element in self { continuation.yield(element) }
            continuation.finish()
        }
    }
}
