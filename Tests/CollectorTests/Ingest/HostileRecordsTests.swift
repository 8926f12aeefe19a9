import LedgerProtocol
import Testing

@testable import Collector

/// Records a hostile or broken sidecar can send, over a real socket (issue 14 items 1, 2, 3 and 10): the collector
/// stays up, stores what it can, quarantines the rest and acknowledges the batch, so the link moves on.
@Suite("Hostile records over real sockets", .timeLimit(.minutes(1)))
struct HostileRecordsTests {
    static func call(_ index: Int, usage: String = #"{"prompt_tokens":5,"completion_tokens":1}"#) -> CapturedCall {
        var call = IngestServerTests.call(index)
        call.responseBody = Array(
            #"{"id":"c","object":"chat.completion","model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"usage":\#(usage)}"#
                .utf8)
        return call
    }

    @Test func aRecordFromTheEndOfTimeIsQuarantinedAndTheBatchAcknowledged() async throws {
        try await IngestHarness.run(token: "secret") { harness in
            var endOfTime = Self.call(2)
            endOfTime.arrivedAtMicros = .max
            let doomed = endOfTime
            let (ack, after) = try await harness.withLink { link in
                _ = try await link.exchange(ProtocolLink.hello())
                let ack = try await link.exchange(.records(Records(batchID: 1, calls: [Self.call(1), doomed, Self.call(3)])))
                let after = try await link.exchange(.records(Records(batchID: 2, calls: [Self.call(4)])))
                return (ack, after)
            }
            #expect(ack == .ack(Ack(batchID: 1, stored: 2, duplicates: 0)))
            #expect(after == .ack(Ack(batchID: 2, stored: 1, duplicates: 0)))
            let (kept, total) = try await harness.store.quarantined(limit: 10)
            #expect(total == 1)
            #expect(kept.first?.actionID == doomed.actionID)
            #expect(kept.first?.reason.contains("arrival time") == true)
            #expect(harness.counters.value(.recordsQuarantined) == 1)
            #expect(try await harness.store.sessions(SessionQuery()).sessions.first?.callCount == 3)
        }
    }

    @Test func absurdTokenCountsAreStoredUncountedAndSessionsStillRead() async throws {
        try await IngestHarness.run(token: "secret") { harness in
            let calls = [
                Self.call(1, usage: #"{"prompt_tokens":9223372036854775807,"completion_tokens":9223372036854775807}"#),
                Self.call(2, usage: #"{"prompt_tokens":9223372036854775807,"completion_tokens":1}"#),
                Self.call(3, usage: #"{"prompt_tokens":-1000000000000,"completion_tokens":2}"#),
            ]
            let ack = try await harness.withLink { link in
                _ = try await link.exchange(ProtocolLink.hello())
                return try await link.exchange(.records(Records(batchID: 1, calls: calls)))
            }
            #expect(ack == .ack(Ack(batchID: 1, stored: 3, duplicates: 0)))
            let session = try #require(try await harness.store.sessions(SessionQuery()).sessions.first)
            #expect(session.callCount == 3)
            #expect(session.totalTokensOut == 3)
            #expect(session.totalCostUSD >= 0)
            #expect(harness.counters.value(.usageRejected) == 4)
            let stored = try await harness.store.calls(inSession: "ingest-session")
            #expect(stored.allSatisfy { $0.tokensIn == nil && ($0.costUSD ?? 0) >= 0 })
        }
    }

    @Test func recordsAreStoredUnderTheSourceTheirLinkProved() async throws {
        try await IngestHarness.run(token: "secret") { harness in
            var call = Self.call(1)
            call.source = "someone-else"
            let forged = call
            _ = try await harness.withLink { link in
                _ = try await link.exchange(ProtocolLink.hello())
                return try await link.exchange(.records(Records(batchID: 1, calls: [forged])))
            }
            #expect(try await harness.store.call(actionID: forged.actionID)?.source == "test-sidecar")
        }
    }
}
