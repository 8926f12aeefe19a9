import Foundation
import Testing

@testable import Collector

extension StoreTests {
    /// Sums of money are exact decimals on both stores: a session's total, `/api/stats` and the spend budgets read,
    /// whatever order and batches the calls arrive in (`Money`).
    @Suite struct MoneyContract {
        /// 0.1 + 0.2 is 0.30000000000000004 in binary floating point; 0.0000322 twice is 6.439999999999998e-05 when
        /// added to a running sum of zero and other amounts. Every total below is the exact decimal.
        @Test(arguments: StoreKind.testable)
        func totalsAreExactDecimals(kind: StoreKind) async throws {
            try await kind.withStore { store in
                let costs = [0.1, 0.2, 0.0000322, 0.0000322, 0.0000000001, 1.1, 2.2, 0.0000001234]
                // One call per batch: the session row is folded by the store's upsert, one addition at a time.
                for (index, cost) in costs.enumerated() {
                    var record = CallRecord.stored("m\(index)", session: "money", at: Int64(1_000 + index), cost: cost)
                    record.agentName = "agent"
                    _ = try await store.insert([record])
                }
                // And a second session in one batch: folded in one statement.
                _ = try await store.insert(
                    costs.enumerated().map { .stored("n\($0.offset)", session: "money-batch", at: 2_000, cost: $0.element) })
                let exact = 3.6000645235
                let sessions = try await store.sessions(SessionQuery()).sessions
                #expect(sessions.first { $0.sessionID == "money" }?.totalCostUSD == exact)
                #expect(sessions.first { $0.sessionID == "money-batch" }?.totalCostUSD == exact)
                #expect(try await store.sessionCost("money") == exact)
                let stats = try await store.stats(StatsQuery(sinceMicros: 0, untilMicros: 10_000))
                #expect(stats.totals.spendUSD == 2 * exact)
                #expect(stats.byAgent.first { $0.key == "agent" }?.figures.spendUSD == exact)
                let spend = try await store.spend(sinceMicros: 0)
                #expect(spend.total == 2 * exact)
                #expect(spend.byAgent["agent"] == exact)
                // The JSON answer is the decimal itself.
                let summary = try #require(sessions.first { $0.sessionID == "money" })
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                let json = String(decoding: try encoder.encode(summary), as: UTF8.self)
                #expect(json.contains(#""total_cost_usd":3.6000645235"#), "\(json)")
            }
        }

        /// Costs of 100,000 USD a call and more are summed another way on Postgres than smaller ones (integers of
        /// 10⁻¹⁰ USD would lose digits there: `PostgresSchema.exactCostSum`): both kinds in one sum are still exact.
        @Test(arguments: StoreKind.testable)
        func largeAndSmallCostsSumExactly(kind: StoreKind) async throws {
            try await kind.withStore { store in
                let costs = [150_000.25, 0.1, 0.2, 99_999.9999999999, -0.05]
                _ = try await store.insert(
                    costs.enumerated().map { .stored("l\($0.offset)", session: "large", at: 1_000, cost: $0.element) })
                let exact = 250_000.4999999999
                #expect(try await store.spend(sinceMicros: 0).total == exact)
                #expect(try await store.stats(StatsQuery(sinceMicros: 0, untilMicros: 10_000)).totals.spendUSD == exact)
                #expect(try await store.sessionCost("large") == exact)
            }
        }
    }
}
