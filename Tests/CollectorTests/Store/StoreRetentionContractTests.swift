import Foundation
import LedgerProtocol
import Testing

@testable import Collector

extension StoreTests {
    /// `AGENTLEDGER_RETENTION_DAYS` on both stores: whole UTC days older than the retention go, with their search
    /// words, the messages no kept call holds, the sessions that ended before, and old quarantined records.
    @Suite struct RetentionContract {
        static let day = Retention.dayMicros
        static let hour: Int64 = 3_600_000_000

        static func message(_ text: String) -> JSONValue {
            .object(["role": .string("user"), "content": .string(text)])
        }

        @Test(arguments: StoreKind.testable)
        func oldDaysGoWithEverythingDerivedFromThem(kind: StoreKind) async throws {
            try await kind.withStore { store in
                let now = WallClock.nowMicros()
                let retention = Retention(keepMicros: 3 * Self.day)
                let cutoff = retention.cutoffMicros(now: now)
                #expect(cutoff == Retention.dayStart(now - 3 * Self.day))

                // Stored long ago: a call of its own session, and one of a session that goes on past the cutoff.
                var gone = CallRecord.stored("gone", session: "s-old", at: cutoff - 12 * Self.day)
                gone.messages = [Self.message("only in the old call"), Self.message("held by old and new")]
                gone.content = "zanzibar"
                var spanOld = CallRecord.stored("span-old", session: "s-span", at: cutoff - 1)
                spanOld.messages = [Self.message("held by old and new")]
                #expect(try await store.insert([gone, spanOld]).stored == 2)
                // Later: the shared message is held by a kept call, so it stays.
                var spanNew = CallRecord.stored("span-new", session: "s-span", at: cutoff + 1)
                spanNew.messages = [Self.message("held by old and new"), Self.message("new")]
                let recent = CallRecord.stored("recent", session: "s-new", at: now - Self.hour)
                #expect(try await store.insert([spanNew, recent]).stored == 2)
                try await store.quarantine([
                    QuarantinedRecord(
                        receivedAtMicros: cutoff - Self.day, source: "pod", actionID: "q-old", reason: "r", record: [1]),
                    QuarantinedRecord(
                        receivedAtMicros: now, source: "pod", actionID: "q-new", reason: "r", record: [2]),
                ])

                let result = try await store.maintain(nowMicros: now, retention: retention)
                #expect(result.callsDeleted == 2)
                #expect(result.sessionsDeleted == 1)
                #expect(result.messagesDeleted == 1)
                #expect(result.quarantinedDeleted == 1)

                #expect(try await store.call(actionID: "gone") == nil)
                #expect(try await store.call(actionID: "span-old") == nil)
                #expect(try await store.search(SearchQuery(text: "zanzibar")).isEmpty)
                #expect(try await store.calls(inSession: "s-old").isEmpty)
                // The kept call still reads back whole, with the message it shared with a deleted one.
                let kept = try await store.calls(inSession: "s-span")
                #expect(kept.map(\.actionID) == ["span-new"])
                #expect(kept.first?.messages == spanNew.messages)
                #expect(try await store.call(actionID: "recent")?.messages == recent.messages)
                let sessions = try await store.sessions(SessionQuery()).sessions
                #expect(Set(sessions.map(\.sessionID)) == ["s-span", "s-new"])
                // A session that goes on keeps its lifetime totals, as its budget does.
                #expect(sessions.first { $0.sessionID == "s-span" }?.callCount == 2)
                #expect(try await store.quarantined(limit: 10).records.map(\.actionID) == ["q-new"])

                let again = try await store.maintain(nowMicros: now, retention: retention)
                #expect(again.callsDeleted == 0 && again.sessionsDeleted == 0 && again.messagesDeleted == 0)
                // Without a retention nothing is deleted, whatever the time.
                let none = try await store.maintain(nowMicros: now + 1_000 * Self.day, retention: nil)
                #expect(none.callsDeleted == 0)
                #expect(try await store.call(actionID: "recent") != nil)
            }
        }

        /// A message stored with an old call and resent by a much later one is noted as held by the later one, so
        /// retention keeps it for the later call (the note is written when it moves by more than an hour).
        @Test(arguments: StoreKind.testable)
        func aMessageResentLaterIsKeptForTheLaterCall(kind: StoreKind) async throws {
            try await kind.withStore { store in
                let now = WallClock.nowMicros()
                let retention = Retention(keepMicros: Self.day)
                let cutoff = retention.cutoffMicros(now: now)
                var first = CallRecord.stored("first", session: "a", at: cutoff - 5 * Self.day)
                first.messages = [Self.message("system prompt everyone sends")]
                _ = try await store.insert([first])
                var later = CallRecord.stored("later", session: "b", at: now - Self.hour)
                later.messages = first.messages
                _ = try await store.insert([later])
                let result = try await store.maintain(nowMicros: now, retention: retention)
                #expect(result.callsDeleted == 1)
                #expect(result.messagesDeleted == 0)
                #expect(try await store.call(actionID: "later")?.messages == first.messages)
            }
        }

        @Test func retentionDays() {
            #expect(Retention(days: 0) == nil)
            #expect(Retention(days: -1) == nil)
            #expect(Retention(days: .infinity) == nil)
            #expect(Retention(days: 1.5) == Retention(keepMicros: 36 * Self.hour))
            // 2026-12-07 13:00 UTC, three days kept: everything before 2026-12-04 00:00 UTC goes.
            let now: Int64 = 1_796_648_400_000_000
            #expect(Retention(days: 3)?.cutoffMicros(now: now) == 1_796_342_400_000_000)
            #expect(Retention.dayStart(-1) == -Self.day)
        }
    }
}
