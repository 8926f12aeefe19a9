import Foundation
import Testing

@testable import Collector

extension StoreTests {
    /// Session filters, stats and the spend figures budget enforcement reads, the same on SQLite and Postgres.
    @Suite struct AnalyticsContract {
        static let second: Int64 = 1_000_000
        static let hour: Int64 = 3_600 * second

        @Test(arguments: StoreKind.testable)
        func sessionsMatchWhenTheirSpanOverlapsTheRange(kind: StoreKind) async throws {
            try await kind.withStore { store in
                var billing = CallRecord.stored("b1", session: "b", at: 10 * Self.second)
                billing.appID = "billing"
                _ = try await store.insert([
                    .stored("a1", session: "a", at: 1 * Self.second), .stored("a2", session: "a", at: 5 * Self.second),
                    billing, .stored("c1", session: "c", at: 20 * Self.second),
                ])
                func ids(since: Int64? = nil, until: Int64? = nil, app: String? = nil) async throws -> [String] {
                    var query = SessionQuery()
                    query.sinceMicros = since
                    query.untilMicros = until
                    query.appID = app
                    let page = try await store.sessions(query)
                    #expect(page.total == page.sessions.count)
                    return page.sessions.map(\.sessionID)
                }
                #expect(try await ids(since: 6 * Self.second) == ["c", "b"])
                #expect(try await ids(since: 5 * Self.second, until: 10 * Self.second) == ["b", "a"], "bounds included")
                #expect(try await ids(since: 3 * Self.second, until: 4 * Self.second) == ["a"], "no call in range, span is")
                #expect(try await ids(until: Self.second - 1).isEmpty)
                #expect(try await ids(app: "billing") == ["b"])
                #expect(try await store.sessions(SessionQuery()).sessions.first { $0.sessionID == "b" }?.appID == "billing")
            }
        }

        /// Postgres binds the sessions of an all-new batch folded in Swift, and folds them itself when the batch holds
        /// a replay: both must give what the calls fold to (`SessionSummary(sessionID:calls:)`), as SQLite does.
        @Test(arguments: StoreKind.testable)
        func aSessionFoldsTheSameWhetherItsBatchIsAllNewOrHoldsAReplay(kind: StoreKind) async throws {
            func calls(_ prefix: String) -> [CallRecord] {
                (0..<24).map { index in
                    var record = CallRecord.stored(
                        "\(prefix)-\(index)", session: "\(prefix)-s\(index % 3)", at: Int64(1_000 - index * 7),
                        cost: index % 4 == 0 ? nil : Double(index) / 4, status: index % 5 == 0 ? 500 : 200)
                    record.blocked = index % 6 == 1
                    record.latencyMS = Double(index % 7) * 2.5
                    record.tokensIn = index % 8 == 0 ? nil : index * 10
                    record.tokensOut = index
                    record.agentName = index % 3 == 2 ? nil : "agent-\(index)"
                    record.userID = index % 4 == 1 ? "user-\(index)" : nil
                    record.modelID = index > 20 ? nil : "model-\(index)"
                    record.appID = index % 2 == 0 ? "app-\(index)" : nil
                    record.environment = index % 9 == 0 ? nil : "env-\(index % 2)"
                    // Sources Postgres must read back from a `text[]` literal as they were: quotes, backslashes,
                    // commas, braces, spaces, the word NULL and the empty string.
                    let sources = ["vm-a", #"vm "b""#, #"vm\c"#, "{vm,d}", "NULL", "", "vm-ü"]
                    record.source = index % 5 == 3 ? nil : sources[index % sources.count]
                    return record
                }
            }
            try await kind.withStore { store in
                let allNew = calls("new")
                #expect(try await store.insert(allNew).duplicates == 0)
                let replayed = calls("replay")
                _ = try await store.insert(Array(replayed[..<2]))
                #expect(try await store.insert(replayed).duplicates == 2)
                let sessions = try await store.sessions(SessionQuery(limit: 10)).sessions
                #expect(sessions.count == 6)
                for batch in [allNew, replayed] {
                    for id in Set(batch.compactMap(\.sessionID)) {
                        let expected = SessionSummary(sessionID: id, calls: batch.filter { $0.sessionID == id })
                        #expect(sessions.first { $0.sessionID == id } == expected, "\(id) on \(kind)")
                    }
                }
            }
        }

        @Test(arguments: StoreKind.testable)
        func sessionsListEachSourceOnceFirstSeenFirstUpToTheBound(kind: StoreKind) async throws {
            try await kind.withStore { store in
                func call(_ id: String, session: String = "s", source: String?) -> CallRecord {
                    var record = CallRecord.stored(id, session: session, at: 1)
                    record.source = source
                    return record
                }
                _ = try await store.insert([call("a", source: "vm-b"), call("b", source: "vm-a"), call("c", source: "vm-b")])
                _ = try await store.insert([call("d", source: nil), call("e", source: "vm-c"), call("f", source: "vm-a")])
                _ = try await store.insert([call("a", source: "vm-z")])
                _ = try await store.insert([call("g", session: "none", source: nil)])
                let many = (0..<20).map { call("m\($0)", session: "many", source: "vm-\($0)") }
                _ = try await store.insert(Array(many[..<10]))
                for record in many[10...] { _ = try await store.insert([record]) }
                let sessions = try await store.sessions(SessionQuery()).sessions
                func sources(_ id: String) -> [String]? { sessions.first { $0.sessionID == id }?.sources }
                #expect(sources("s") == ["vm-b", "vm-a", "vm-c"], "a duplicate call adds nothing")
                #expect(sources("none") == [])
                #expect(sources("many") == (0..<SessionSummary.maximumSources).map { "vm-\($0)" })
                #expect(sessions.first { $0.sessionID == "many" }?.callCount == 20)
            }
        }

        @Test(arguments: StoreKind.testable)
        func statsSumPerBucketModelAndAgent(kind: StoreKind) async throws {
            try await kind.withStore { store in
                let start = 1_775_217_600 * Self.second  // a whole hour
                func call(_ id: String, at offset: Int64, latency: Double?, model: String = "gpt-4o", agent: String? = "writer")
                    -> CallRecord
                {
                    var record = CallRecord.stored(id, at: start + offset, cost: 0.5)
                    record.latencyMS = latency
                    record.modelID = model
                    record.agentName = agent
                    return record
                }
                var failed = call("e", at: 3 * Self.second, latency: 40, model: "claude")
                failed.statusCode = 500
                failed.costUSD = 0.25
                var blocked = call("x", at: 4 * Self.second, latency: nil, agent: nil)
                blocked.blocked = true
                blocked.statusCode = 429
                blocked.costUSD = 1
                var disconnected = call("d", at: Self.hour + 1, latency: 5, agent: "editor")
                disconnected.outcome = "client_disconnected"
                _ = try await store.insert([
                    call("a", at: 0, latency: 10), call("b", at: Self.second, latency: 20),
                    call("c", at: 2 * Self.second, latency: 30), failed, blocked, disconnected,
                    call("late", at: 5 * Self.hour, latency: 1), call("early", at: -1, latency: 1),
                ])
                let stats = try await store.stats(
                    StatsQuery(sinceMicros: start, untilMicros: start + 2 * Self.hour - 1, bucket: .hour))
                #expect(stats.totals.calls == 6)
                #expect(stats.totals.spendUSD == 2.25, "blocked calls cost nothing")
                #expect(stats.totals.errors == 2)
                #expect(stats.totals.blocked == 1)
                #expect(stats.totals.tokensIn == 600)
                #expect(stats.totals.tokensOut == 120)
                #expect(stats.buckets.map(\.startMicros) == [start, start + Self.hour])
                let first = try #require(stats.buckets.first?.figures)
                #expect(first.calls == 5 && first.errors == 1 && first.blocked == 1 && first.spendUSD == 1.75)
                #expect(first.latencyP50MS == 25)
                #expect(stats.buckets.map(\.spendByModel) == [["gpt-4o": 1.5, "claude": 0.25], ["gpt-4o": 0.5]])
                let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(stats)) as? [String: Any]
                let buckets = try #require(json?["buckets"] as? [[String: Any]])
                let shares = buckets.map { ($0["spend_by_model"] as? [[String: Any]])?.map { $0["model_id"] as? String } }
                #expect(shares == [["gpt-4o", "claude"], ["gpt-4o"]], "in by_model order")
                #expect(abs((first.latencyP95MS ?? 0) - 38.5) < 1e-9)
                #expect(abs((first.latencyP99MS ?? 0) - 39.7) < 1e-9)
                #expect(stats.byModel.map(\.key) == ["gpt-4o", "claude"])
                #expect(stats.byModel.map(\.figures.calls) == [5, 1])
                #expect(stats.byAgent.map(\.key) == ["writer", "editor", nil])
                #expect(stats.byAgent.last?.figures.latencyP50MS == nil, "no latencies, no percentiles")
                #expect(stats.byAgent.first?.figures.spendUSD == 1.75)

                let minutes = try await store.stats(
                    StatsQuery(sinceMicros: start, untilMicros: start + Self.hour + 1, bucket: .minute))
                #expect(minutes.buckets.map(\.startMicros) == [start, start + Self.hour], "the until bound is included")
                #expect(minutes.buckets.map(\.figures.calls) == [5, 1])
                let empty = try await store.stats(StatsQuery(sinceMicros: 0, untilMicros: 1, bucket: .day))
                #expect(empty.totals == CallStats.Figures() && empty.buckets.isEmpty && empty.byModel.isEmpty)
            }
        }

        @Test(arguments: StoreKind.testable)
        func sessionCostIsTheLifetimeSpendWithoutBlockedCalls(kind: StoreKind) async throws {
            try await kind.withStore { store in
                var blocked = CallRecord.stored("x", at: 3, cost: 1)
                blocked.blocked = true
                let calls: [CallRecord] = [.stored("a", at: 1), .stored("b", at: 2, cost: 0.25), blocked]
                _ = try await store.insert(calls)
                _ = try await store.insert(calls)
                #expect(try await store.sessionCost("s1") == 0.75)
                #expect(try await store.sessionCost("unknown") == 0)
                _ = try await store.insert([.stored("c", at: 4, cost: 0.125)])
                #expect(try await store.sessionCost("s1") == 0.875)
            }
        }

        @Test(arguments: StoreKind.testable)
        func spendSinceSumsPerAgentAndUser(kind: StoreKind) async throws {
            try await kind.withStore { store in
                func call(_ id: String, at micros: Int64, cost: Double?, agent: String?, user: String?) -> CallRecord {
                    var record = CallRecord.stored(id, session: nil, at: micros, cost: cost)
                    record.agentName = agent
                    record.userID = user
                    return record
                }
                var blocked = call("x", at: 30, cost: 4, agent: "writer", user: "u1")
                blocked.blocked = true
                _ = try await store.insert([
                    call("old", at: 9, cost: 8, agent: "writer", user: "u1"),
                    call("a", at: 10, cost: 0.5, agent: "writer", user: "u1"),
                    call("b", at: 20, cost: 0.25, agent: "writer", user: "u2"),
                    call("c", at: 25, cost: 1, agent: "editor", user: nil),
                    call("d", at: 26, cost: 2, agent: nil, user: "u2"),
                    call("unpriced", at: 27, cost: nil, agent: "editor", user: "u1"), blocked,
                ])
                let spend = try await store.spend(sinceMicros: 10)
                #expect(spend.total == 3.75)
                #expect(spend.byAgent == ["writer": 0.75, "editor": 1])
                #expect(spend.byUser == ["u1": 0.5, "u2": 2.25])
                #expect(try await store.spend(sinceMicros: 100) == SpendTotals())
            }
        }

        /// Today's spend per app seeds the app budgets at start; calls of several apps by one agent and user split.
        @Test(arguments: StoreKind.testable)
        func spendSinceSumsPerApp(kind: StoreKind) async throws {
            try await kind.withStore { store in
                func call(_ id: String, at micros: Int64, cost: Double?, app: String?) -> CallRecord {
                    var record = CallRecord.stored(id, session: nil, at: micros, cost: cost)
                    record.userID = "u1"
                    record.appID = app
                    return record
                }
                var blocked = call("x", at: 30, cost: 4, app: "billing")
                blocked.blocked = true
                _ = try await store.insert([
                    call("old", at: 9, cost: 8, app: "billing"), call("a", at: 10, cost: 0.5, app: "billing"),
                    call("b", at: 20, cost: 0.25, app: "billing"), call("c", at: 25, cost: 1, app: "search"),
                    call("d", at: 26, cost: 2, app: nil), call("unpriced", at: 27, cost: nil, app: "search"), blocked,
                ])
                let spend = try await store.spend(sinceMicros: 10)
                #expect(spend.total == 3.75)
                #expect(spend.byApp == ["billing": 0.75, "search": 1])
                #expect(spend.byAgent == ["writer": 3.75])
                #expect(spend.byUser == ["u1": 3.75])
            }
        }
    }
}
