import PostgresNIO
import SQLiteNIO

/// Spend since an instant, grouped by one dimension of a call (the `spend` MCP tool): one `GROUP BY` over the
/// stored calls, on SQLite and Postgres alike. Blocked calls cost nothing and are left out, as in budgets.
package struct SpendBreakdown: Sendable, Equatable {
    /// What spend is grouped by; each names one column of `calls` (so no text from a caller reaches the SQL).
    package enum Dimension: String, Sendable, CaseIterable {
        case model, agent, user, app, environment

        var column: String {
            switch self {
            case .model: "model_id"
            case .agent: "agent_name"
            case .user: "user_id"
            case .app: "app_id"
            case .environment: "environment"
            }
        }
    }

    /// One group: its key (nil for calls without one), spend in USD and number of calls.
    package struct Group: Sendable, Equatable {
        package var key: String?
        package var spendUSD: Double
        package var calls: Int
    }

    /// Every group, highest spend first (then most calls, then key).
    package var groups: [Group]

    package var totalUSD: Double { groups.reduce(0) { $0 + $1.spendUSD } }
    package var calls: Int { groups.reduce(0) { $0 &+ $1.calls } }

    /// Reads the breakdown from `store`; a store of another kind (none today) is a tool error.
    static func read(from store: any Store, by dimension: Dimension, sinceMicros: Int64) async throws -> SpendBreakdown {
        let column = dimension.column
        var groups: [Group] = []
        if let store = store as? SQLiteStore {
            let rows = try await store.reader.query(
                """
                SELECT \(column) AS key, total(cost_usd) AS spend, count(*) AS calls FROM calls
                WHERE ts_micros >= ? AND NOT blocked GROUP BY \(column)
                """,
                [.integer(Int(sinceMicros))])
            for row in rows {
                groups.append(
                    Group(
                        key: row.column("key")?.string, spendUSD: row.column("spend")?.double ?? 0,
                        calls: row.column("calls")?.integer ?? 0))
            }
        } else if let store = store as? PostgresStore {
            var binds = PostgresBindings()
            binds.append(sinceMicros)
            let query = PostgresQuery(
                unsafeSQL: """
                    SELECT \(column), coalesce(sum(cost_usd), 0), count(*) FROM calls
                    WHERE ts_micros >= $1 AND NOT blocked GROUP BY \(column)
                    """, binds: binds)
            groups = try await store.bounded("spend by \(dimension.rawValue)") { client in
                var groups: [Group] = []
                for try await (key, spend, calls) in try await client.query(query).decode((String?, Double, Int64).self) {
                    groups.append(Group(key: key, spendUSD: spend, calls: Int(clamping: calls)))
                }
                return groups
            }
        } else {
            throw MCPToolError("spend is not available on this store")
        }
        groups.sort { a, b in
            if a.spendUSD != b.spendUSD { return a.spendUSD > b.spendUSD }
            if a.calls != b.calls { return a.calls > b.calls }
            return (a.key ?? "") < (b.key ?? "")
        }
        return SpendBreakdown(groups: groups)
    }
}
