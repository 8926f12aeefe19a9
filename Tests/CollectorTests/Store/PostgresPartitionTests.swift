import Foundation
import LedgerProtocol
import PostgresNIO
import Testing

@testable import Collector

extension StoreTests {
    /// Postgres keeps each UTC day of calls in a partition of its own (docs/operations.md, "Retention and
    /// partitions"): made ahead, dropped whole by retention, with a default partition for calls timed elsewhere.
    @Suite(.enabled(if: PostgresTestCluster.isConfigured, PostgresTestCluster.notConfigured))
    struct PostgresPartitions {
        static let day = Retention.dayMicros

        /// The partition holding each call, by action id.
        static func partitions(_ store: PostgresStore) async throws -> [String: String] {
            var found: [String: String] = [:]
            let rows = try await store.client.query("SELECT action_id, tableoid::regclass::text FROM calls")
            for try await (id, table) in rows.decode((String, String).self) { found[id] = table }
            return found
        }

        static func tables(_ store: PostgresStore) async throws -> [String] {
            let rows = try await store.client.query(
                "SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'calls'::regclass ORDER BY 1"
            )
            var tables: [String] = []
            for try await table in rows.decode(String.self) { tables.append(table) }
            return tables
        }

        static func callIDs(_ store: PostgresStore) async throws -> Int {
            try await store.client.query("SELECT count(*) FROM call_ids").decode(Int.self).first { _ in true } ?? -1
        }

        /// JIT compiles every partition's expressions of a costly query (seconds at a year of partitions): the
        /// migration turns it off for the store's database, so every connection made after it runs without.
        @Test func theStoresConnectionsRunWithoutJIT() async throws {
            try await StoreKind.postgres.withStore { any in
                let store = try #require(any as? PostgresStore)
                let jit = try await store.client.query("SHOW jit").decode(String.self).first { _ in true }
                #expect(jit == "off")
            }
        }

        @Test func callsGoToTheirDayAndRetentionDropsWholeDays() async throws {
            try await StoreKind.postgres.withStore { any in
                let store = try #require(any as? PostgresStore)
                let now = WallClock.nowMicros()
                let today = Retention.dayStart(now)
                let name = { (offset: Int64) in PostgresStore.partitionName(dayStart: today + offset * Self.day) }
                // Made by the migration: a month back (for calls stored late) to three days ahead, and the default.
                #expect(try await Self.tables(store) == (-31...3).map { name($0) } + ["calls_default"])

                let records = [
                    CallRecord.stored("today", session: "s", at: now),
                    CallRecord.stored("in-two-days", session: "s", at: today + 2 * Self.day + 5),
                    CallRecord.stored("ahead", session: "s", at: today + 10 * Self.day + 7),
                    CallRecord.stored("long-ago", session: "old", at: today - 40 * Self.day),
                    CallRecord.stored("late", session: "late", at: today - 5 * Self.day + 9),
                ]
                #expect(try await store.insert(records).stored == 5)
                var placed = try await Self.partitions(store)
                #expect(placed["today"] == name(0))
                #expect(placed["in-two-days"] == name(2))
                #expect(placed["ahead"] == "calls_default")
                #expect(placed["long-ago"] == "calls_default")
                #expect(placed["late"] == name(-5))
                // The same id at another time is the same call: not stored twice.
                #expect(try await store.insert([.stored("today", session: "s", at: now - 3 * Self.day)]).stored == 0)

                // Eight days on, the days up to 11 are made (4 to 11), and the call waiting in the default moves
                // into its day; the one from 40 days before stays there.
                let later = try await store.maintain(nowMicros: now + 8 * Self.day, retention: nil)
                #expect(later.partitionsCreated == 8)
                placed = try await Self.partitions(store)
                #expect(placed["ahead"] == name(10))
                #expect(placed["long-ago"] == "calls_default")
                #expect(try await store.calls(inSession: "late").map(\.actionID) == ["late"])
                #expect(try await store.call(actionID: "ahead")?.timestampMicros == today + 10 * Self.day + 7)

                // Nine days on with a week kept: the 33 days before day 2 go whole, day 2 and later stay (day 12 is
                // made; none before the cutoff is); the old call in the default is deleted row by row.
                let dropped = try await store.maintain(
                    nowMicros: now + 9 * Self.day, retention: Retention(keepMicros: 7 * Self.day))
                #expect(dropped.partitionsDropped == 33)
                #expect(dropped.partitionsCreated == 1)
                #expect(dropped.callsDeleted == 3)
                #expect(try await Self.tables(store).contains(name(0)) == false)
                #expect(try await Self.tables(store).contains(name(2)))
                #expect(try await store.call(actionID: "today") == nil)
                #expect(try await store.call(actionID: "long-ago") == nil)
                #expect(try await store.calls(inSession: "s").map(\.actionID) == ["in-two-days", "ahead"])
                #expect(try await store.call(actionID: "late") == nil)
                #expect(try await Self.callIDs(store) == 2)
                // An id retention deleted may be stored again (a spool replayed after its retention).
                #expect(try await store.insert([.stored("today", session: "s", at: now)]).stored == 1)
            }
        }

        /// Batches stored at once that resend the same messages (a system prompt in every call) note those messages
        /// in one order, so Postgres never has to break a deadlock between them: every batch is stored.
        @Test func concurrentBatchesNotingTheSameMessagesNeverDeadlock() async throws {
            try await StoreKind.postgres.withStore { store in
                let shared = (0..<300).map { RetentionContract.message("shared message \($0)") }
                let hour: Int64 = 3_600_000_000
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for writer in 0..<8 {
                        group.addTask {
                            for round in 0..<12 {
                                // Each batch later than the notes by more than an hour, its messages in its own order.
                                let batch = (0..<30).map { index in
                                    var record = CallRecord.stored(
                                        "w\(writer)-r\(round)-\(index)", session: "s\(writer)",
                                        at: Int64(round + 1) * 2 * hour + Int64(writer * 1000 + index))
                                    record.messages = Array(shared.shuffled().prefix(60))
                                    return record
                                }
                                let stored = try await store.insert(batch).stored
                                #expect(stored == 30)
                            }
                        }
                    }
                    try await group.waitForAll()
                }
            }
        }
    }
}
