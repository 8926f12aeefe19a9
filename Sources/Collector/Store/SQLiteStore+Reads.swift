import NIOCore
import SQLiteNIO

/// What the API and budget enforcement read from SQLite, all on the reader connection.
extension SQLiteStore {
    private static let selectCalls = "SELECT \(CallRecord.columns.map { "calls.\($0)" }.joined(separator: ", ")) FROM calls"

    package func calls(inSession sessionID: String) async throws -> [CallRecord] {
        try await records(Self.selectCalls + " WHERE session_id = ? ORDER BY ts_micros, action_id", [.text(sessionID)])
    }

    package func call(actionID: String) async throws -> CallRecord? {
        try await records(Self.selectCalls + " WHERE action_id = ?", [.text(actionID)]).first
    }

    /// The calls a query selects, with their messages loaded in one more query per few hundred distinct messages.
    private func records(_ sql: String, _ binds: [SQLiteData]) async throws -> [CallRecord] {
        let rows = try await reader.query(sql, binds)
        var records = try rows.map(CallRecord.init(row:))
        let digests = try rows.map { row in
            try MessageDigest.split(row.column("message_hashes")?.blob.map { Array($0.readableBytesView) })
        }
        let needed = MessageDigest.distinct(digests)
        var bodies: [[UInt8]: String] = [:]
        for start in stride(from: 0, to: needed.count, by: 500) {
            let chunk = needed[start..<min(start + 500, needed.count)]
            let rows = try await reader.query(
                "SELECT hash, body FROM messages WHERE hash IN ("
                    + Array(repeating: "?", count: chunk.count).joined(separator: ", ") + ")",
                chunk.map { .blob(ByteBuffer(bytes: $0)) })
            for row in rows {
                guard let hash = row.column("hash")?.blob, let body = row.column("body")?.string else { continue }
                bodies[Array(hash.readableBytesView)] = body
            }
        }
        try MessageDigest.assemble(&records, digests: digests, bodies: bodies)
        return records
    }

    package func sessions(_ query: SessionQuery) async throws -> SessionPage {
        var conditions: [String] = []
        var binds: [SQLiteData] = []
        for (column, value) in query.equalities {
            conditions.append("\(column) = ?")
            binds.append(.text(value))
        }
        if let source = query.source {
            conditions.append("EXISTS (SELECT 1 FROM json_each(sessions.sources) WHERE value = ?)")
            binds.append(.text(source))
        }
        if let since = query.sinceMicros {
            conditions.append("ended_at >= ?")
            binds.append(.integer(Int(since)))
        }
        if let until = query.untilMicros {
            conditions.append("started_at <= ?")
            binds.append(.integer(Int(until)))
        }
        let filter = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        let total =
            try await reader.query("SELECT count(*) AS n FROM sessions" + filter, binds).first?.column("n")?.saturatingInteger
            ?? 0
        let rows = try await reader.query(
            "SELECT * FROM sessions\(filter) ORDER BY started_at DESC, session_id LIMIT ? OFFSET ?",
            binds + [.integer(query.limit), .integer(query.offset)])
        let sessions = rows.map { row in
            SessionSummary(
                sessionID: row.column("session_id")?.string ?? "",
                callCount: row.column("call_count")?.saturatingInteger ?? 0,
                startedAtMicros: Int64(row.column("started_at")?.saturatingInteger ?? 0),
                endedAtMicros: Int64(row.column("ended_at")?.saturatingInteger ?? 0),
                totalLatencyMS: row.column("total_latency_ms")?.double ?? 0,
                totalTokensIn: row.column("total_tokens_in")?.saturatingInteger ?? 0,
                totalTokensOut: row.column("total_tokens_out")?.saturatingInteger ?? 0,
                totalCostUSD: Money.exact(row.column("total_cost_usd")?.double ?? 0),
                errorCount: row.column("error_count")?.saturatingInteger ?? 0,
                blockedCount: row.column("blocked_count")?.saturatingInteger ?? 0,
                modelID: row.column("model_id")?.string, agentName: row.column("agent_name")?.string,
                userID: row.column("user_id")?.string, environment: row.column("environment")?.string,
                appID: row.column("app_id")?.string,
                sources: (try? JSONText.decode([String].self, row.column("sources")?.string ?? "[]")) ?? [],
                unpricedCalls: row.column("unpriced_calls")?.saturatingInteger ?? 0)
        }
        return SessionPage(sessions: sessions, total: total)
    }

    /// Each term is an FTS5 string (a phrase of its words), so nothing in it is read as an operator.
    package func search(_ query: SearchQuery) async throws -> [CallRecord] {
        let terms = query.terms
        guard !terms.isEmpty else { return [] }
        let match = terms.map { "\"" + $0.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }.joined(separator: " ")
        return try await records(
            Self.selectCalls + " JOIN calls_search ON calls_search.rowid = calls.rowid WHERE calls_search MATCH ?"
                + " ORDER BY calls.ts_micros DESC, calls.action_id DESC LIMIT ?",
            [.text(match), .integer(query.limit)])
    }

    /// Sums per (bucket, model, agent) in SQL, with each group's latencies as a JSON array for the percentiles.
    package func stats(_ query: StatsQuery) async throws -> CallStats {
        let rows = try await reader.query(
            """
            SELECT ts_micros - (((ts_micros % ?1) + ?1) % ?1) AS bucket, model_id, agent_name,
                coalesce(sum(CASE WHEN blocked THEN 0 ELSE CAST(round(cost_usd * 1e10) AS INTEGER) END), 0) / 1e10 AS spend,
                count(*) AS calls,
                coalesce(sum(tokens_in), 0) AS tokens_in, coalesce(sum(tokens_out), 0) AS tokens_out,
                sum(NOT blocked AND (status_code IS NULL OR status_code >= 400 OR outcome <> 'completed')) AS errors,
                sum(blocked) AS blocked, sum(cost_usd IS NULL AND NOT blocked AND model_id IS NOT NULL AND tokens_in IS NOT NULL) AS unpriced,
                json_group_array(latency_ms) FILTER (WHERE latency_ms IS NOT NULL) AS latencies
            FROM calls WHERE ts_micros BETWEEN ?2 AND ?3
            GROUP BY 1, 2, 3
            """,
            [.integer(Int(query.bucket.micros)), .integer(Int(query.sinceMicros)), .integer(Int(query.untilMicros))])
        var accumulator = StatsAccumulator()
        for row in rows {
            var figures = CallStats.Figures()
            figures.spendUSD = Money.exact(row.column("spend")?.double ?? 0)
            figures.calls = row.column("calls")?.saturatingInteger ?? 0
            figures.tokensIn = row.column("tokens_in")?.saturatingInteger ?? 0
            figures.tokensOut = row.column("tokens_out")?.saturatingInteger ?? 0
            figures.errors = row.column("errors")?.saturatingInteger ?? 0
            figures.blocked = row.column("blocked")?.saturatingInteger ?? 0
            figures.unpricedCalls = row.column("unpriced")?.saturatingInteger ?? 0
            let latencies = try JSONText.decode([Double].self, row.column("latencies")?.string ?? "[]")
            accumulator.add(
                bucket: Int64(row.column("bucket")?.saturatingInteger ?? 0), model: row.column("model_id")?.string,
                agent: row.column("agent_name")?.string, figures: figures, latencies: latencies)
        }
        return accumulator.stats(for: query)
    }

    package func sessionCost(_ sessionID: String) async throws -> Double {
        let cost =
            try await reader.query("SELECT total_cost_usd FROM sessions WHERE session_id = ?", [.text(sessionID)])
            .first?.column("total_cost_usd")?.double ?? 0
        return Money.exact(cost)
    }

    package func spend(sinceMicros: Int64) async throws -> SpendTotals {
        let rows = try await reader.query(
            """
            SELECT agent_name, user_id, app_id, model_id, environment,
                coalesce(sum(CAST(round(cost_usd * 1e10) AS INTEGER)), 0) / 1e10 AS spend
            FROM calls
            WHERE ts_micros >= ? AND NOT blocked GROUP BY agent_name, user_id, app_id, model_id, environment
            """,
            [.integer(Int(sinceMicros))])
        var totals = SpendTotals()
        for row in rows {
            totals.add(
                row.column("spend")?.double ?? 0, agent: row.column("agent_name")?.string, user: row.column("user_id")?.string,
                app: row.column("app_id")?.string, model: row.column("model_id")?.string,
                environment: row.column("environment")?.string)
        }
        return totals
    }
}
