import LedgerProtocol
import LedgerTestSupport
import Sidecar
import Testing

/// ADMIT before forwarding, over real sockets, against a collector that admits, refuses or stays silent.
@Suite("Sidecar admission over real sockets", .serialized, .timeLimit(.minutes(2)))
struct AdmissionIntegrationTests {
    static let body = #"{"model":"gpt-4o","max_tokens":300,"messages":[{"role":"user","content":"hi"}]}"#
    static let json = [("content-type", "application/json")]

    @Test func aCollectorThatEnforcesNothingIsNeverAsked() async throws {
        try await SidecarHarness.run(admission: .notRequired) { harness in
            #expect(await harness.linkReady())
            let answer = try await harness.send(.POST, "/v1/chat/completions", headers: Self.json, body: Self.body)
            #expect(answer.status == 200)
            #expect(harness.collector?.admits.isEmpty == true)
        }
    }

    @Test func anAdmittedCallCarriesItsKeysModelAndCap() async throws {
        try await SidecarHarness.run(admission: .admitAll) { harness in
            #expect(await harness.linkReady())
            let answer = try await harness.send(
                .POST, "/v1/chat/completions",
                headers: Self.json + [("x-agentledger-session-id", "s-1"), ("x-agentledger-agent-name", "writer")],
                body: Self.body)
            #expect(answer.status == 200)
            let admit = try #require(harness.collector?.admits.first)
            #expect(admit.actionID == answer.headers.first(name: "x-agentledger-action-id"))
            #expect(admit.sessionID == "s-1")
            #expect(admit.agentName == "writer")
            #expect(admit.model == "gpt-4o")
            #expect(admit.maxTokens == 300)
            #expect(admit.bodyBytes == UInt32(Self.body.utf8.count))
        }
    }

    @Test func aRefusedCallGets429NeverReachesTheUpstreamAndIsRecordedAsBlocked() async throws {
        let message = "Session budget of $1.0000 exceeded (current spend and reservations: $1.0000). Session: s-1"
        try await SidecarHarness.run(admission: .refuseAll(type: "budget_exceeded", message: message, retryAfter: 30)) {
            harness in
            #expect(await harness.linkReady())
            let answer = try await harness.send(
                .POST, "/v1/chat/completions", headers: Self.json + [("x-agentledger-session-id", "s-1")], body: Self.body)
            #expect(answer.status == 429)
            #expect(answer.errorType == "budget_exceeded")
            #expect(answer.text.contains("Session budget of $1.0000 exceeded"))
            #expect(answer.headers.first(name: "retry-after") == "30")
            #expect(answer.headers.first(name: "x-agentledger-session-id") == "s-1")
            #expect(try await harness.lastUpstreamRequest() == nil, "the refused call reached the upstream")

            let calls = await harness.collected(1)
            let call = try #require(calls.first)
            #expect(call.outcome == .refused)
            #expect(call.statusCode == 429)
            #expect(call.actionID == answer.headers.first(name: "x-agentledger-action-id"))
            #expect(String(decoding: call.responseBody, as: UTF8.self) == answer.text)
            #expect(harness.shipper.counters.value(.refusedByCollector) == 1)
        }
    }

    @Test func noVerdictInTimeForwardsWhenOpen() async throws {
        try await SidecarHarness.run(admission: .silent) { harness in
            #expect(await harness.linkReady())
            let answer = try await harness.send(.POST, "/v1/chat/completions", headers: Self.json, body: Self.body)
            #expect(answer.status == 200)
            #expect(harness.shipper.counters.value(.admissionUnavailable) == 1)
        }
    }

    @Test func noVerdictInTimeRefusesWith503WhenClosed() async throws {
        try await SidecarHarness.run(admission: .silent, configure: { $0.refuseWhenCollectorDown = true }) { harness in
            #expect(await harness.linkReady())
            let answer = try await harness.send(.POST, "/v1/chat/completions", headers: Self.json, body: Self.body)
            #expect(answer.status == 503)
            #expect(answer.errorType == "collector_unavailable")
            #expect(try await harness.lastUpstreamRequest() == nil)
        }
    }
}
