import LedgerProtocol
import Testing

@testable import Collector

extension StoreTests {
    /// Records that cannot be stored as calls are kept, once each, and never block the records beside them
    /// (issue 14: a record that cannot be stored is quarantined, never retried forever).
    @Suite struct Quarantine {
        static func call(_ id: String, session: String = "q-session") -> CapturedCall {
            CapturedCall(
                actionID: id, arrivedAtMicros: 1_790_000_000_000_000, method: "POST", path: "/v1/chat/completions",
                source: "own-source", metadata: CallMetadata(sessionID: session), statusCode: 200, completedMicros: 1_000)
        }

        @Test(arguments: StoreKind.testable)
        func aQuarantinedRecordIsKeptOnceNewestFirst(kind: StoreKind) async throws {
            try await kind.withStore { store in
                let older = QuarantinedRecord(
                    receivedAtMicros: 1, source: "pod\u{0}a", actionID: nil, reason: String(repeating: "r", count: 5_000),
                    record: [0, 1, 2, 255])
                let newer = QuarantinedRecord(
                    receivedAtMicros: 2, source: nil, actionID: "x", reason: "why", record: [9, 9])
                try await store.quarantine([older, newer])
                try await store.quarantine([older])  // a replay
                let (records, total) = try await store.quarantined(limit: 10)
                #expect(total == 2)
                #expect(records.map(\.record) == [[9, 9], [0, 1, 2, 255]])
                #expect(records.first?.actionID == "x")
                #expect(records.last?.reason.count == QuarantinedRecord.maximumReasonLength + 1)
                #expect(try await store.quarantined(limit: 1).records.count == 1)
            }
        }

        /// A store that is only busy (SQLite's lock held by another process past its busy timeout, a Postgres
        /// serialization failure) refuses nothing for good: the batch fails whole and is sent again, and no record of
        /// it is quarantined. Found by `Tests/e2e/test_up_overload.py`: records met the lock one by one and were
        /// quarantined as if they could never be stored.
        @Test(arguments: StoreKind.testable)
        func aBusyStoreFailsTheBatchAndQuarantinesNothing(kind: StoreKind) async throws {
            try await kind.withStore { store in
                var busy = RefusingStore(base: store, refused: "poison")
                busy.busy = "b"
                let pipeline = IngestPipeline(normalizer: Normalizer(), store: busy, counters: CollectorCounters())
                await #expect(throws: StoreError.self) {
                    try await pipeline.commit([Self.call("a"), Self.call("poison"), Self.call("b")], source: "link")
                }
                #expect(try await store.quarantined(limit: 10).total == 0)
                // The lock let go, the same batch is stored, and only the record the store refuses is quarantined.
                let free = IngestPipeline(
                    normalizer: Normalizer(), store: RefusingStore(base: store, refused: "poison"),
                    counters: CollectorCounters())
                let result = try await free.commit([Self.call("a"), Self.call("poison"), Self.call("b")], source: "link")
                #expect(result.newActionIDs.isSuperset(of: ["b"]))
                #expect(try await store.call(actionID: "b") != nil)
                #expect(try await store.quarantined(limit: 10).records.compactMap(\.actionID) == ["poison"])
            }
        }

        @Test(arguments: StoreKind.testable)
        func theStoreRefusingOneRecordStoresTheRestAndQuarantinesIt(kind: StoreKind) async throws {
            try await kind.withStore { store in
                let refusing = RefusingStore(base: store, refused: "poison")
                let counters = CollectorCounters()
                let pipeline = IngestPipeline(normalizer: Normalizer(), store: refusing, counters: counters)
                let garbage = RejectedRecord(bytes: [0x01, 0x00, 0x00, 0x00, 0x01, 0x41, 0xFF], reason: "bad field")
                let result = try await pipeline.commit(
                    [Self.call("a"), Self.call("poison"), Self.call("b")], rejected: [garbage], source: "link-source")
                #expect(result.newActionIDs == ["a", "b"])
                #expect(result.quarantined == 2)
                #expect(counters.value(.recordsQuarantined) == 2)
                #expect(counters.value(.recordsStored) == 2)
                let (kept, _) = try await store.quarantined(limit: 10)
                #expect(Set(kept.compactMap(\.actionID)) == ["poison", "A"])
                #expect(kept.allSatisfy { $0.source == "link-source" })
                let poison = try #require(kept.first { $0.actionID == "poison" })
                #expect(try CapturedCall.decodeFields(poison.record[...]).actionID == "poison")
                // The link's proven source, not the record's own, is what is stored.
                #expect(try await store.call(actionID: "a")?.source == "link-source")
                // Replaying the whole batch stores nothing twice and keeps each quarantined record once.
                let replay = try await pipeline.commit(
                    [Self.call("a"), Self.call("poison"), Self.call("b")], rejected: [garbage], source: "link-source")
                #expect(replay.stored == 0)
                #expect(try await store.quarantined(limit: 10).total == 2)
            }
        }

        @Test(arguments: StoreKind.testable)
        func aStoreThatIsDownFailsTheBatchSoTheSidecarKeepsIt(kind: StoreKind) async throws {
            try await kind.withStore { store in
                let down = RefusingStore(base: store, refused: nil)
                let pipeline = IngestPipeline(normalizer: Normalizer(), store: down, counters: CollectorCounters())
                await #expect(throws: StoreError.self) { try await pipeline.commit([Self.call("a")]) }
                let total = try await store.quarantined(limit: 10).total
                #expect(total == 0)
            }
        }
    }
}

/// A real store that refuses any batch holding the action id `refused`, as a store refuses a record it cannot
/// hold; with `refused` nil it is down: every insert and readiness check fails.
struct RefusingStore: Store {
    let base: any Store
    let refused: String?
    /// A batch holding this action id finds the store busy (a lock held elsewhere), while it still answers reads.
    var busy: String? = nil
    /// Called at the start of every insert, on the thread the insert runs on.
    var onInsert: (@Sendable () -> Void)? = nil

    func insert(_ records: [CallRecord]) async throws -> InsertResult {
        onInsert?()
        if let busy, records.contains(where: { $0.actionID == busy }) {
            throw StoreError("busy: database is locked", transient: true)
        }
        guard let refused else { throw StoreError("connection refused") }
        if records.contains(where: { $0.actionID == refused }) { throw StoreError("value out of range for \(refused)") }
        return try await base.insert(records)
    }

    func checkReady() async throws {
        guard refused != nil else { throw StoreError("connection refused") }
        try await base.checkReady()
    }

    func migrate() async throws { try await base.migrate() }
    func calls(inSession sessionID: String) async throws -> [CallRecord] { try await base.calls(inSession: sessionID) }
    func call(actionID: String) async throws -> CallRecord? { try await base.call(actionID: actionID) }
    func sessions(_ query: SessionQuery) async throws -> SessionPage { try await base.sessions(query) }
    func search(_ query: SearchQuery) async throws -> [CallRecord] { try await base.search(query) }
    func stats(_ query: StatsQuery) async throws -> CallStats { try await base.stats(query) }
    func sessionCost(_ sessionID: String) async throws -> Double { try await base.sessionCost(sessionID) }
    func spend(sinceMicros: Int64) async throws -> SpendTotals { try await base.spend(sinceMicros: sinceMicros) }
    func quarantine(_ records: [QuarantinedRecord]) async throws { try await base.quarantine(records) }
    func quarantined(limit: Int) async throws -> (records: [QuarantinedRecord], total: Int) {
        try await base.quarantined(limit: limit)
    }
    func policyOverrides() async throws -> [PolicyOverride] { try await base.policyOverrides() }
    func savePolicyChange(_ change: PolicyChange, override: PolicyOverride?) async throws {
        try await base.savePolicyChange(change, override: override)
    }
    func policyChanges(limit: Int) async throws -> [PolicyChange] { try await base.policyChanges(limit: limit) }
    func saveSidecars(_ reports: [SidecarReport]) async throws { try await base.saveSidecars(reports) }
    func sidecars() async throws -> [SidecarReport] { try await base.sidecars() }
    func maintain(nowMicros: Int64, retention: Retention?) async throws -> MaintenanceResult {
        try await base.maintain(nowMicros: nowMicros, retention: retention)
    }
    func close() async throws {}
}
