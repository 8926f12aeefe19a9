import Foundation
import Testing

@testable import Collector

extension StoreTests {
    /// What every store does, asserted the same way on SQLite and on Postgres.
    @Suite struct Contract {
        @Test(arguments: StoreKind.testable)
        func migrationsAreIdempotentAndMakeTheStoreReady(kind: StoreKind) async throws {
            try await kind.withStore { store in
                try await store.migrate()
                try await store.checkReady()
            }
        }

        @Test(arguments: StoreKind.testable)
        func insertIsIdempotentOnActionID(kind: StoreKind) async throws {
            try await kind.withStore { store in
                let first = try await store.insert([.stored("a", at: 1), .stored("b", at: 2)])
                #expect(first == InsertResult(newActionIDs: ["a", "b"], duplicates: 0))
                let replay = try await store.insert([.stored("b", at: 2), .stored("c", at: 3)])
                #expect(replay == InsertResult(newActionIDs: ["c"], duplicates: 1))
                let calls = try await store.calls(inSession: "s1")
                #expect(calls.map(\.actionID) == ["a", "b", "c"])
                let sessions = try await store.sessions(SessionQuery())
                #expect(sessions.sessions.first?.callCount == 3, "a replay must not count twice in the aggregates")
            }
        }

        /// A batch of 250 calls spans three of SQLite's multi-row statements (`SQLiteStore.callsPerStatement`): a
        /// repeat across a statement's edge, replays, sessions met in every statement and sources in order all come
        /// out as they would call by call.
        @Test(arguments: StoreKind.testable)
        func aBatchLargerThanOneStatementIsStoredAsCallByCall(kind: StoreKind) async throws {
            try await kind.withStore { store in
                _ = try await store.insert([.stored("call-0007", session: "s0", at: 7)])
                var batch: [CallRecord] = []
                for index in 0..<250 {
                    var record = CallRecord.stored(
                        String(format: "call-%04d", index), session: "s\(index % 3)", at: Int64(1_000 + index),
                        cost: 0.25)
                    record.source = "pod-\(index % 5)"
                    record.content = "answer number \(index) " + (index == 230 ? "zanzibar" : "")
                    batch.append(record)
                }
                batch.append(batch[42])  // call-0042 again, in the third statement
                let result = try await store.insert(batch)
                #expect(result.newActionIDs.count == 249)
                #expect(result.duplicates == 2)  // call-0007 stored before, call-0042 twice
                #expect(!result.newActionIDs.contains("call-0007"))
                let sessions = Dictionary(
                    uniqueKeysWithValues: try await store.sessions(SessionQuery()).sessions.map { ($0.sessionID, $0) })
                // s0: its 84 calls and the earlier call-0007; s1: 83 less call-0007, stored before in s0.
                #expect(sessions["s0"]?.callCount == 85)
                #expect(sessions["s1"]?.callCount == 82)
                #expect(sessions["s2"]?.callCount == 83)
                #expect(sessions["s1"]?.totalTokensIn == 8_200)
                #expect(sessions["s1"]?.totalCostUSD == 20.5)
                // In the order first met: calls 1, 4, 10, 13, 22 (call 7 was not stored again).
                #expect(sessions["s1"]?.sources == ["pod-1", "pod-4", "pod-0", "pod-3", "pod-2"])
                #expect(try await store.search(SearchQuery(text: "zanzibar")).map(\.actionID) == ["call-0230"])
                #expect(try await store.call(actionID: "call-0249")?.content == "answer number 249 ")
            }
        }

        @Test(arguments: StoreKind.testable)
        func anActionIDTwiceInOneBatchIsStoredOnce(kind: StoreKind) async throws {
            try await kind.withStore { store in
                var second = CallRecord.stored("a", at: 2)
                second.content = "second"
                let result = try await store.insert([.stored("a", at: 1), second])
                #expect(result == InsertResult(newActionIDs: ["a"], duplicates: 1))
                #expect(try await store.call(actionID: "a")?.timestampMicros == 1)
                #expect(try await store.sessions(SessionQuery()).sessions.first?.callCount == 1)
            }
        }

        @Test(arguments: StoreKind.testable)
        func recordsRoundTripEveryField(kind: StoreKind) async throws {
            try await kind.withStore { store in
                var original = CallRecord.stored("a", at: 1_775_217_600_123_456)
                original.systemPrompt = "be brief"
                original.tokensCacheRead = 64
                original.tokensCacheWrite = 8
                original.tokensReasoning = 5
                original.priceTable = "builtin"
                original.ttftMS = 3.25
                original.stream = true
                original.errorDetail = "x"
                original.userID = "u"
                original.appID = "app"
                original.parentActionID = "p"
                original.handoffFrom = "a1"
                original.handoffTo = "a2"
                original.temperature = 0.7
                original.maxTokens = 256
                original.source = "pod-1"
                original.stopReason = "stop"
                original.content = "ok"
                original.outcome = "client_disconnected"
                original.costUSD = 0.000_123_456_789_012_345
                original.messages.append(
                    .object([
                        "role": .string("assistant"), "n": .int(9_007_199_254_740_993), "x": .double(0.1),
                        "nested": .array([.null, .bool(false), .string("a\\u0000b \u{1F600}")]),
                    ]))
                _ = try await store.insert([original])
                let loaded = try await store.call(actionID: "a")
                #expect(loaded == original)
                #expect(try await store.call(actionID: "missing") == nil)
            }
        }

        @Test(arguments: StoreKind.testable)
        func aSparseRecordRoundTripsItsNulls(kind: StoreKind) async throws {
            try await kind.withStore { store in
                let sparse = CallRecord(actionID: "bare", timestampMicros: 5)
                _ = try await store.insert([sparse, .stored("full", at: 6)])
                #expect(try await store.call(actionID: "bare") == sparse)
            }
        }

        @Test(arguments: StoreKind.testable)
        func sessionAggregatesAreMaintained(kind: StoreKind) async throws {
            try await kind.withStore { store in
                var blocked = CallRecord.stored("c", at: 30, cost: nil, status: 429)
                blocked.blocked = true
                _ = try await store.insert([.stored("a", at: 10), .stored("b", at: 20, cost: 0.25, status: 500), blocked])
                let page = try await store.sessions(SessionQuery())
                let summary = try #require(page.sessions.first)
                #expect(summary.callCount == 3)
                #expect(summary.startedAtMicros == 10)
                #expect(summary.endedAtMicros == 30 + 12_500)
                #expect(summary.totalLatencyMS == 37.5)
                #expect(summary.totalCostUSD == 0.75)
                #expect(summary.totalTokensIn == 300)
                #expect(summary.totalTokensOut == 60)
                #expect(summary.errorCount == 1)
                #expect(summary.blockedCount == 1)
                #expect(summary.agentName == "writer")
                #expect(summary.modelID == "gpt-4o")
            }
        }

        @Test(arguments: StoreKind.testable)
        func laterBatchesFoldIntoTheSessionAndTheLastNameWins(kind: StoreKind) async throws {
            try await kind.withStore { store in
                var early = CallRecord.stored("early", at: 5)
                early.latencyMS = 1
                var renamed = CallRecord.stored("renamed", at: 50)
                renamed.agentName = "editor"
                var anonymous = CallRecord.stored("anonymous", at: 60)
                anonymous.agentName = nil
                anonymous.userID = "u1"
                _ = try await store.insert([.stored("a", at: 10)])
                _ = try await store.insert([early, renamed, anonymous])
                let summary = try #require(try await store.sessions(SessionQuery()).sessions.first)
                #expect(summary.callCount == 4)
                #expect(summary.startedAtMicros == 5)
                #expect(summary.endedAtMicros == 60 + 12_500)
                #expect(summary.totalCostUSD == 2)
                #expect(summary.agentName == "editor", "a call without a name keeps the session's")
                #expect(summary.userID == "u1")
            }
        }

        @Test(arguments: StoreKind.testable)
        func sessionsPageNewestFirstWithFilters(kind: StoreKind) async throws {
            try await kind.withStore { store in
                var records: [CallRecord] = []
                for index in 0..<5 {
                    var call = CallRecord.stored("c\(index)", session: "s\(index)", at: Int64(index * 100))
                    call.agentName = index % 2 == 0 ? "even" : "odd"
                    call.userID = "u\(index % 3)"
                    records.append(call)
                }
                records.append(.stored("none", session: nil, at: 1))
                _ = try await store.insert(records)
                let firstPage = try await store.sessions(SessionQuery(limit: 2, offset: 0))
                #expect(firstPage.total == 5)
                #expect(firstPage.sessions.map(\.sessionID) == ["s4", "s3"])
                let secondPage = try await store.sessions(SessionQuery(limit: 2, offset: 2))
                #expect(secondPage.sessions.map(\.sessionID) == ["s2", "s1"])
                let beyond = try await store.sessions(SessionQuery(limit: 2, offset: 10))
                #expect(beyond.sessions.isEmpty && beyond.total == 5)
                var filtered = SessionQuery()
                filtered.agentName = "odd"
                let odd = try await store.sessions(filtered)
                #expect(odd.total == 2)
                #expect(odd.sessions.map(\.sessionID) == ["s3", "s1"])
                filtered.agentName = "even"
                filtered.userID = "u0"
                filtered.environment = "development"
                #expect(try await store.sessions(filtered).sessions.map(\.sessionID) == ["s0"])
                filtered.environment = "production"
                #expect(try await store.sessions(filtered).total == 0)
            }
        }

        @Test(arguments: StoreKind.testable)
        func filteredPagesAtAnyOffsetKeepTheListsOrderWithTiesBySessionID(kind: StoreKind) async throws {
            try await kind.withStore { store in
                var records: [CallRecord] = []
                for index in 0..<12 {
                    // Pairs of sessions start at the same time; the order between them is their id's.
                    var call = CallRecord.stored("c\(index)", session: "s\(11 - index)", at: Int64(index / 2 * 100))
                    call.appID = index % 3 == 0 ? "other" : "app"
                    call.environment = index % 4 == 0 ? "staging" : "production"
                    records.append(call)
                }
                _ = try await store.insert(records)
                var everyPage: [String] = []
                for offset in stride(from: 0, to: 14, by: 5) {
                    everyPage += try await store.sessions(SessionQuery(limit: 5, offset: offset)).sessions.map(\.sessionID)
                }
                #expect(everyPage == ["s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11"])
                var byApp = SessionQuery(limit: 3, offset: 2)
                byApp.appID = "app"
                let page = try await store.sessions(byApp)
                #expect(page.total == 8)
                #expect(page.sessions.map(\.sessionID) == ["s3", "s4", "s6"])
                var byEnvironment = SessionQuery(limit: 2, offset: 1)
                byEnvironment.environment = "staging"
                let staging = try await store.sessions(byEnvironment)
                #expect(staging.total == 3)
                #expect(staging.sessions.map(\.sessionID) == ["s7", "s11"])
            }
        }

        @Test(arguments: StoreKind.testable)
        func callsOfASessionComeOldestFirstWhateverTheirOrderOfArrival(kind: StoreKind) async throws {
            try await kind.withStore { store in
                _ = try await store.insert([.stored("late", at: 300), .stored("B", at: 100)])
                _ = try await store.insert([.stored("early", at: 50), .stored("a", at: 100)])
                let ids = try await store.calls(inSession: "s1").map(\.actionID)
                #expect(ids == ["early", "B", "a", "late"], "equal times order by action_id, byte-wise")
                #expect(try await store.calls(inSession: "unknown").isEmpty)
            }
        }

        @Test(arguments: StoreKind.testable)
        func nonUUIDSessionIDsWork(kind: StoreKind) async throws {
            try await kind.withStore { store in
                _ = try await store.insert([.stored("x1", session: "run-1", at: 1), .stored("x2", session: "Ünïcode 🙂", at: 2)])
                #expect(try await store.calls(inSession: "run-1").map(\.actionID) == ["x1"])
                #expect(try await store.calls(inSession: "Ünïcode 🙂").map(\.actionID) == ["x2"])
            }
        }

        @Test(arguments: StoreKind.testable)
        func aSessionlessCallIsStoredButListedNowhere(kind: StoreKind) async throws {
            try await kind.withStore { store in
                _ = try await store.insert([.stored("x", session: nil, at: 1)])
                #expect(try await store.call(actionID: "x") != nil)
                #expect(try await store.sessions(SessionQuery()).total == 0)
            }
        }

        @Test(arguments: StoreKind.testable)
        func anEmptyBatchStoresNothing(kind: StoreKind) async throws {
            try await kind.withStore { store in
                let result = try await store.insert([])
                #expect(result == InsertResult(newActionIDs: [], duplicates: 0))
            }
        }
    }
}
