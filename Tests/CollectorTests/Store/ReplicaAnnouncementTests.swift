import Testing

@testable import Collector

/// What collectors on one Postgres tell each other after each insert: payloads under Postgres' 8,000-byte limit that
/// read back as the ids they carry, and nothing read from a payload that is not ours.
@Suite struct ReplicaAnnouncementTests {
    @Test func aBatchSplitsIntoPayloadsUnderTheLimitThatReadBackInFull() throws {
        let ids = (0..<1_000).map { "0190a1b2-c3d4-7e5f-8a9b-\(String(format: "%012d", $0))" }
        let payloads = PostgresStore.StoredCalls.payloads(replica: "host/42/7", actionIDs: ids)
        #expect(payloads.count == 5)
        #expect(payloads.allSatisfy { $0.utf8.count <= PostgresStore.maximumPayloadBytes })
        let read = try payloads.map { try #require(PostgresStore.StoredCalls(payload: $0)) }
        #expect(read.allSatisfy { $0.replica == "host/42/7" })
        #expect(read.flatMap(\.actionIDs) == ids)
    }

    @Test func nothingToAnnounceIsNoPayload() {
        #expect(PostgresStore.StoredCalls.payloads(replica: "r", actionIDs: [String]()).isEmpty)
    }

    @Test(arguments: ["", "no newline", "replica\n", "\nid-1"])
    func aForeignPayloadIsIgnored(payload: String) {
        #expect(PostgresStore.StoredCalls(payload: payload) == nil)
    }
}
