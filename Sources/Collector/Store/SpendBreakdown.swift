import PostgresNIO
import SQLiteNIO

/// Spend over a range, grouped by one dimension of a call (`GET /api/spend`, the dashboard's Costs page and the `spend`
/// MCP tool): one `GROUP BY` over the stored calls, on SQLite and Postgres alike, summed exactly (as decimals of 10
/// places). Blocked calls cost nothing and are left out, as in budgets; calls with token counts and no known price
/// count in `unpriced`, so a total says what it leaves out.
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

    /// One group: its key (nil for calls without one), spend in USD, number of calls, and how many of them had no
    /// known price.
    package struct Group: Sendable, Equatable {
        package var key: String?
        package var spendUSD: Double
        package var calls: Int
        package var unpriced: Int = 0
    }

    /// Every group, highest spend first (then most calls, then key).
    package var groups: [Group]

    package var totalUSD: Double { groups.reduce(0) { Money.sum($0, $1.spendUSD) } }
    package var calls: Int { groups.reduce(0) { $0 &+ $1.calls } }
    package var unpriced: Int { groups.reduce(0) { $0 &+ $1.unpriced } }

    /// Reads the breakdown from `store`; a store of another kind (none today) is a tool error.
    /// `untilMicros`: calls up to it, bounds included; nil for every call since `sinceMicros`.
    static func read(from store: any Store, by dimension: Dimension, sinceMicros: Int64, untilMicros: Int64? = nil)
        async throws -> SpendBreakdown
    {
        let column = dimension.column
        let until = untilMicros ?? .max
        let unpriced = "cost_usd IS NULL AND model_id IS NOT NULL AND tokens_in IS NOT NULL"
        var groups: [Group] = []
        if let store = store as? SQLiteStore {
            let rows = try await store.reader.query(
                """
                SELECT \(column) AS key, coalesce(sum(CAST(round(cost_usd * 1e10) AS INTEGER)), 0) / 1e10 AS spend,
                    count(*) AS calls, count(*) FILTER (WHERE \(unpriced)) AS unpriced
                FROM calls WHERE ts_micros >= ? AND ts_micros <= ? AND NOT blocked GROUP BY \(column)
                """,
                [.integer(Int(sinceMicros)), .integer(Int(until))])
            for row in rows {
                groups.append(
                    Group(
                        key: row.column("key")?.string, spendUSD: row.column("spend")?.double ?? 0,
                        calls: row.column("calls")?.integer ?? 0, unpriced: row.column("unpriced")?.integer ?? 0))
            }
        } else if let store = store as? PostgresStore {
            var binds = PostgresBindings()
            binds.append(sinceMicros)
            binds.append(until)
            let query = PostgresQuery(
                unsafeSQL: """
                    SELECT \(column), \(PostgresSchema.exactCostSum()), count(*),
                        count(*) FILTER (WHERE \(unpriced))
                    FROM calls WHERE ts_micros >= $1 AND ts_micros <= $2 AND NOT blocked GROUP BY \(column)
                    """, binds: binds)
            groups = try await store.bounded("spend by \(dimension.rawValue)") { client in
                var groups: [Group] = []
                let rows = try await client.query(query).decode((String?, Double, Int64, Int64).self)
                for try await (key, spend, calls, unpriced) in rows {
                    groups.append(
                        Group(key: key, spendUSD: spend, calls: Int(clamping: calls), unpriced: Int(clamping: unpriced)))
                }
                return groups
            }
        } else {
            throw StoreError("spend by group is not available on this store")
        }
        groups.sort { a, b in
            if a.spendUSD != b.spendUSD { return a.spendUSD > b.spendUSD }
            if a.calls != b.calls { return a.calls > b.calls }
            return (a.key ?? "") < (b.key ?? "")
        }
        return SpendBreakdown(groups: groups)
    }
}

extension SpendBreakdown {
    /// What `GET /api/spend` answers (docs/reference.md): the range, the totals, and the first `limit` groups.
    func json(dimension: Dimension, since: Int64, until: Int64, limit: Int) -> JSONValue {
        .object([
            "group_by": .string(dimension.rawValue), "since": .string(ISOTimestamp.format(micros: since)),
            "until": .string(ISOTimestamp.format(micros: until)), "total_usd": .double(totalUSD),
            "calls": .int(Int64(calls)), "unpriced_calls": .int(Int64(unpriced)), "groups_total": .int(Int64(groups.count)),
            "groups": .array(
                groups.prefix(limit).map { group in
                    .object([
                        "key": group.key.map(JSONValue.string) ?? .null, "spend_usd": .double(group.spendUSD),
                        "calls": .int(Int64(group.calls)), "unpriced_calls": .int(Int64(group.unpriced)),
                    ])
                }),
        ])
    }
}
