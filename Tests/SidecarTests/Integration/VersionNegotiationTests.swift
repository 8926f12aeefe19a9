import LedgerProtocol
import LedgerTestSupport
import Sidecar
import Testing

/// The link's protocol version (docs/protocol.md, "Versions"): a sidecar offers 2, reports STATUS and sends a
/// call's environment in ADMIT on a version-2 link, and links with version 1 to a collector of an earlier release.
@Suite("Protocol versions over real sockets", .serialized, .timeLimit(.minutes(2)))
struct VersionNegotiationTests {
    static let body = #"{"model":"gpt-4o","max_tokens":300,"messages":[{"role":"user","content":"hi"}]}"#
    static let headers = [("content-type", "application/json"), ("x-agentledger-environment", "prod")]

    @Test func aVersionTwoLinkCarriesStatusAndTheEnvironment() async throws {
        try await SidecarHarness.run(admission: .admitAll) { harness in
            #expect(await harness.linkReady())
            let collector = try #require(harness.collector)
            #expect(collector.hellos.map(\.protocolVersion) == [UInt16(WireFormat.latestVersion)])
            let answer = try await harness.send(.POST, "/v1/chat/completions", headers: Self.headers, body: Self.body)
            #expect(answer.status == 200)
            #expect(collector.admits.first?.environment == "prod")
            // STATUS every 200 ms here: one comes that counts the call, acknowledged, with the admission timed.
            let counted = await Integration.eventually {
                collector.statuses.contains { $0[.captured] == 1 && $0[.acknowledged] == 1 }
            }
            #expect(counted)
            let first = try #require(collector.statuses.first)
            #expect(first[.startedAtMicros] ?? 0 > 0)
            #expect(first[.sentAtMicros] ?? 0 >= first[.startedAtMicros] ?? 0)
            #expect(collector.statuses.contains { ($0[.admissions] ?? 0) == 1 && $0[.admissionP99Micros] != nil })
            #expect(collector.statuses.allSatisfy { $0[.dropped] == 0 && $0[.spoolBytes] != nil })
        }
    }

    @Test func aVersionOneCollectorGetsAVersionOneLink() async throws {
        try await SidecarHarness.run(admission: .admitAll, collectorVersion: 1) { harness in
            #expect(await harness.linkReady())
            let collector = try #require(harness.collector)
            // Offered 2, refused as unsupported, offered 1 at once.
            #expect(collector.hellos.map(\.protocolVersion) == [2, 1])
            let answer = try await harness.send(.POST, "/v1/chat/completions", headers: Self.headers, body: Self.body)
            #expect(answer.status == 200)
            let admit = try #require(collector.admits.first)
            #expect(admit.environment == nil, "a version-1 collector got a version-2 ADMIT")
            #expect(await harness.collected(1).first?.metadata.environment == "prod", "the record keeps it")
            try await Task.sleep(for: .milliseconds(600))
            #expect(collector.statuses.isEmpty, "STATUS sent on a version-1 link")
        }
    }
}
