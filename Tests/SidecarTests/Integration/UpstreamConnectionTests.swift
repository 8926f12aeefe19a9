import LedgerTestSupport
import NIOCore
import Sidecar
import Testing

/// The proxy's upstream side: the head timeout, keep-alive reuse of upstream connections, and backpressure in both
/// directions carried across the end of an exchange.
@Suite("Sidecar upstream connections", .serialized, .timeLimit(.minutes(2)))
struct UpstreamConnectionTests {
    static let chatBody = ProxyIntegrationTests.chatBody
    static let json = ("content-type", "application/json")

    @Test func upstreamThatNeverAnswersGets502AfterTheHeadTimeout() async throws {
        try await ScriptedUpstream.with(.silent) { silent in
            try await SidecarHarness.run(
                upstream: .url("http://127.0.0.1:\(silent.port)"), configure: { $0.upstreamHeadTimeout = .milliseconds(300) }
            ) { harness in
                #expect(await harness.linkReady())
                let started = ContinuousClock.now
                let answer = try await harness.send(.POST, "/v1/chat/completions", headers: [Self.json], body: Self.chatBody)
                let elapsed = ContinuousClock.now - started
                #expect(answer.status == 502)
                #expect(answer.errorType == "upstream_unavailable")
                #expect(elapsed >= .milliseconds(250) && elapsed < .seconds(4), "502 after \(elapsed)")
                #expect(silent.accepted >= 1)

                let uncaptured = try await harness.send(.GET, "/v1/models")
                #expect(uncaptured.status == 502)

                let call = try #require(await harness.collected(1).first)
                #expect(call.outcome == .upstreamUnreachable)
                #expect(call.statusCode == nil)
                #expect(call.requestBody == Array(Self.chatBody.utf8))
            }
        }
    }

    @Test func upstreamThatStallsMidResponseIsCutAfterTheStallTimeout() async throws {
        try await SidecarHarness.run(configure: { $0.upstreamStallTimeout = .milliseconds(300) }) { harness in
            #expect(await harness.linkReady())
            let started = ContinuousClock.now
            // The mock pauses 5 s between stream events: the first arrives, then nothing for longer than the timeout.
            let cut = try await ProxyIntegrationTests.agentSeesTheAnswerCut(
                harness, scenario: "normal", body: ProxyIntegrationTests.streamBody, headers: [("x-mock-delay-ms", "5000")])
            let elapsed = ContinuousClock.now - started
            #expect(cut, "the agent's stream ended cleanly although the upstream stalled")
            #expect(elapsed < .seconds(4), "cut after \(elapsed)")

            let call = try #require(await harness.collected(1).first)
            #expect(call.outcome == .upstreamFailed)
            #expect(call.statusCode == 200)
            #expect(call.outcomeDetail?.contains("no bytes of the response for") == true, "\(call.outcomeDetail ?? "-")")
        }
    }

    @Test func aSlowButSteadyStreamIsNotCut() async throws {
        try await SidecarHarness.run(configure: { $0.upstreamStallTimeout = .milliseconds(1000) }) { harness in
            // 200 ms between events (about 1.4 s in all), longer than the stall timeout: each byte restarts the wait; a
            // pause of 1 s needs a very busy machine.
            let answer = try await harness.send(
                .POST, "/v1/chat/completions", headers: [Self.json, ("x-mock-scenario", "slow_stream")],
                body: ProxyIntegrationTests.streamBody)
            #expect(answer.status == 200)
            #expect(String(decoding: answer.body, as: UTF8.self).hasSuffix("data: [DONE]\n\n"))
            let call = try #require(await harness.collected(1).first)
            #expect(call.outcome == .completed)
        }
    }

    @Test func sequentialCallsReuseOneUpstreamConnection() async throws {
        try await ScriptedUpstream.with(.answer(body: #"{"ok":true}"#, close: false)) { upstream in
            try await SidecarHarness.run(upstream: .url("http://127.0.0.1:\(upstream.port)")) { harness in
                for index in 0..<10 {
                    let answer = try await harness.send(.POST, "/v1/chat/completions", headers: [Self.json], body: Self.chatBody)
                    #expect(answer.status == 200, "call \(index)")
                    #expect(answer.text == #"{"ok":true}"#)
                }
                #expect(upstream.accepted == 1, "\(upstream.accepted) upstream connections for 10 sequential calls")
            }
        }
    }

    @Test func upstreamConnectionCloseIsHonouredAndTheNextCallConnectsAgain() async throws {
        try await ScriptedUpstream.with(.answer(body: #"{"ok":true}"#, close: true)) { upstream in
            try await SidecarHarness.run(upstream: .url("http://127.0.0.1:\(upstream.port)")) { harness in
                for index in 0..<3 {
                    let answer = try await harness.send(.POST, "/v1/chat/completions", headers: [Self.json], body: Self.chatBody)
                    #expect(answer.status == 200, "call \(index): \(answer.text)")
                    #expect(answer.headers.first(name: "connection") == nil, "the upstream's hop-by-hop header was forwarded")
                }
                #expect(upstream.accepted == 3)
                let calls = await harness.collected(3)
                #expect(calls.map(\.outcome) == [.completed, .completed, .completed])
            }
        }
    }

    /// A big answer to an agent that reads slowly pauses the upstream connection; the connection must not go back
    /// to the pool still paused, or the next call on it never sees its answer.
    @Test func upstreamConnectionReusedAfterASlowReaderStillAnswers() async throws {
        try await SidecarHarness.run(configure: { $0.upstreamHeadTimeout = .seconds(3) }) { harness in
            let body = String(repeating: "abcdefghijklmnopqrstuvwxyz0123456789", count: (4 << 20) / 36)
            let echo =
                "POST /v1/echo HTTP/1.1\r\nHost: sidecar\r\nContent-Type: text/plain\r\n"
                + "Content-Length: \(body.utf8.count)\r\n\r\n\(body)"
            let (big, next) = try await RawHTTPConnection.run(port: harness.proxyPort, within: .seconds(30), "slow reader") {
                connection in
                var statuses: [Int] = []
                var next: [Int] = []
                for _ in 0..<3 {
                    try await connection.send(echo)
                    try await Task.sleep(for: .milliseconds(300))
                    let answer = try #require(try await connection.nextResponse(pace: .milliseconds(1)))
                    statuses.append(answer.body.count == body.utf8.count ? answer.status : -1)
                    try await connection.send("GET /v1/models HTTP/1.1\r\nHost: sidecar\r\n\r\n")
                    next.append(try await connection.nextResponse()?.status ?? 0)
                }
                return (statuses, next)
            }
            #expect(big == [200, 200, 200])
            #expect(next == [200, 200, 200], "a call after a slowly read answer failed (502: head timeout)")
        }
    }

    /// An upstream that answers an upload before reading it: the agent connection, held back while the upstream
    /// could take no more, must read again once the exchange is over, or the agent's upload and next call hang.
    @Test(arguments: [true, false])
    func agentConnectionReadsAgainAfterAnEarlyAnswerToAnUpload(upstreamCloses: Bool) async throws {
        let behaviour = ScriptedUpstream.Behaviour.answerEarly(
            body: #"{"early":true}"#, delay: .milliseconds(500), close: upstreamCloses)
        try await ScriptedUpstream.with(behaviour) { upstream in
            try await SidecarHarness.run(upstream: .url("http://127.0.0.1:\(upstream.port)")) { harness in
                let body = String(repeating: "abcdefghijklmnopqrstuvwxyz0123456789", count: (24 << 20) / 36)
                let upload =
                    "POST /v1/files HTTP/1.1\r\nHost: sidecar\r\nContent-Type: application/octet-stream\r\n"
                    + "Content-Length: \(body.utf8.count)\r\n\r\n\(body)"
                let (early, uploaded, next) = try await RawHTTPConnection.run(
                    port: harness.proxyPort, within: .seconds(30), "upload"
                ) {
                    connection in
                    let sending = connection.sendInBackground(upload)
                    let early = try await connection.nextResponse()?.status ?? 0
                    let uploaded = await Integration.eventually(within: .seconds(5)) { sending.isWritten }
                    guard uploaded else {
                        // Else the stuck agent connection keeps the proxy from ever shutting down.
                        try await connection.resetOnClose()
                        return (early, false, 0)
                    }
                    try await connection.send("GET /v1/models HTTP/1.1\r\nHost: sidecar\r\nConnection: close\r\n\r\n")
                    return (early, true, try await connection.nextResponse()?.status ?? 0)
                }
                #expect(early == 200)
                #expect(uploaded, "the proxy stopped reading the agent's upload after the upstream's early answer")
                #expect(next != 0, "no answer to the next request on the same connection")
            }
        }
    }
}
