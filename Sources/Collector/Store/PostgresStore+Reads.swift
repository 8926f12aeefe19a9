import LedgerProtocol
import PostgresNIO

/// What the API and budget enforcement read from Postgres, each read bounded by `operationTimeout`.
extension PostgresStore {
    /// Bounded by the session's first and last call, as bound values, so that Postgres plans only their days'
    /// partitions (a bound it learns while running still has it plan every partition, milliseconds with hundreds).
    package func calls(inSession sessionID: String) async throws -> [CallRecord] {
        let span = PostgresQuery(
            unsafeSQL: "SELECT started_at, ended_at FROM sessions WHERE session_id = $1", binds: Self.bindings(sessionID))
        let bounds = try await bounded("the span of a session") { client in
            try await client.query(span).decode((Int64, Int64).self).first { _ in true }
        }
        var binds = Self.bindings(sessionID)
        binds.append(bounds?.0 ?? .min)
        binds.append(bounds?.1 ?? .max)
        return try await records(
            "calls of a session",
            PostgresQuery(
                unsafeSQL: PostgresSchema.selectCalls
                    + " WHERE session_id = $1 AND ts_micros BETWEEN $2 AND $3 ORDER BY ts_micros, action_id",
                binds: binds))
    }

    package func call(actionID: String) async throws -> CallRecord? {
        try await calls(actionIDs: [actionID]).first
    }

    /// The calls with these action ids, oldest first; ids not stored are left out. `call_ids` gives each one's time
    /// first, so that only their days' partitions are planned and read.
    package func calls(actionIDs: [String]) async throws -> [CallRecord] {
        guard !actionIDs.isEmpty else { return [] }
        var ids = PostgresBindings()
        ids.append(actionIDs)
        let lookup = PostgresQuery(
            unsafeSQL: "SELECT action_id, ts_micros FROM call_ids WHERE action_id = ANY($1::text[])", binds: ids)
        let known = try await bounded("the times of calls by action id") { client in
            var known: [(String, Int64)] = []
            for try await row in try await client.query(lookup).decode((String, Int64).self) { known.append(row) }
            return known
        }
        guard !known.isEmpty else { return [] }
        var binds = PostgresBindings()
        binds.append(known.map(\.0))
        binds.append(known.map(\.1))
        return try await records(
            "calls by action id",
            PostgresQuery(
                unsafeSQL: PostgresSchema.selectCalls
                    + " WHERE ts_micros = ANY($2::int8[]) AND action_id = ANY($1::text[]) ORDER BY ts_micros, action_id",
                binds: binds))
    }

    package func sessions(_ query: SessionQuery) async throws -> SessionPage {
        var filters = PostgresBindings()
        var conditions: [String] = []
        for (column, value) in query.equalities {
            filters.append(value)
            conditions.append("\(column) = $\(filters.count)")
        }
        if let source = query.source {
            filters.append(PostgresCallColumns.withoutNUL(source))
            conditions.append("$\(filters.count) = ANY(sources)")
        }
        if let since = query.sinceMicros {
            filters.append(since)
            conditions.append("ended_at >= $\(filters.count)")
        }
        if let until = query.untilMicros {
            filters.append(until)
            conditions.append("started_at <= $\(filters.count)")
        }
        let filter = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        var paged = filters
        paged.append(query.limit)
        paged.append(query.offset)
        let count = PostgresQuery(unsafeSQL: "SELECT count(*) FROM sessions" + filter, binds: filters)
        // Past the first page, the page's keys first and then only its rows: the offset is walked in an index that
        // holds the sort key (migration 12), where `SELECT *` with the offset read every skipped row from the table
        // (1.6 times the time 19,000 sessions deep at 1M calls; docs/benchmarks.md, "The sessions list on its
        // indexes"). The first page reads its rows directly, which saves the join.
        let limits = "LIMIT $\(paged.count - 1) OFFSET $\(paged.count)"
        let page = PostgresQuery(
            unsafeSQL: query.offset == 0
                ? "SELECT * FROM sessions\(filter) ORDER BY started_at DESC, session_id \(limits)"
                : """
                SELECT s.* FROM (SELECT session_id FROM sessions\(filter) ORDER BY started_at DESC, session_id \(limits)) page
                JOIN sessions s USING (session_id) ORDER BY s.started_at DESC, s.session_id
                """,
            binds: paged)
        return try await bounded("sessions") { client in
            let total = try await client.query(count).decode(Int.self).first { _ in true } ?? 0
            let rows = try await client.query(page).collect()
            return SessionPage(sessions: try rows.map(Self.summary(from:)), total: total)
        }
    }

    private static func summary(from row: PostgresRow) throws -> SessionSummary {
        let cells = row.makeRandomAccess()
        return SessionSummary(
            sessionID: try cells["session_id"].decode(String.self),
            callCount: try cells["call_count"].decode(Int.self),
            startedAtMicros: try cells["started_at"].decode(Int64.self),
            endedAtMicros: try cells["ended_at"].decode(Int64.self),
            totalLatencyMS: try cells["total_latency_ms"].decode(Double.self),
            totalTokensIn: try cells["total_tokens_in"].decode(Int.self),
            totalTokensOut: try cells["total_tokens_out"].decode(Int.self),
            totalCostUSD: Money.exact(try cells["total_cost_usd"].decode(Double.self)),
            errorCount: try cells["error_count"].decode(Int.self),
            blockedCount: try cells["blocked_count"].decode(Int.self),
            modelID: try cells["model_id"].decode(String?.self), agentName: try cells["agent_name"].decode(String?.self),
            userID: try cells["user_id"].decode(String?.self), environment: try cells["environment"].decode(String?.self),
            appID: try cells["app_id"].decode(String?.self), sources: try cells["sources"].decode([String].self),
            unpricedCalls: try cells["unpriced_calls"].decode(Int.self))
    }

    /// How far back each step of a search reaches, newest first; the last step takes everything older.
    static let searchSteps: [Int64] = [1, 7, 30, 365].map { $0 * Retention.dayMicros }

    /// Each term is a phrase query (`phraseto_tsquery`) of its words, the terms ANDed, as on SQLite.
    ///
    /// Newest first, a window at a time (the last day, week, month, year, then the rest), each bound by its times so
    /// that Postgres plans only those days' partitions, until the limit is filled: a search over a history of hundreds
    /// of days plans a handful of partitions when recent calls match, instead of every one (15 ms of planning at 370).
    ///
    /// Postgres cannot estimate how rare a word is (a word outside its sample is guessed at 0.5% of calls), so it
    /// reads a rare word newest first through the time index, row by row, over the whole range (0.4 s at 3.65 million
    /// calls for a word in 36). The first window is left to it: a common word fills the page there in a fraction of
    /// a millisecond. A word that did not fill it is not common, so the later windows order by `ts_micros + 0`, which
    /// the time index cannot give: Postgres then reads the word index and only the matching rows (0.3 ms for that
    /// word). docs/benchmarks.md, "Retention and day partitions".
    package func search(_ query: SearchQuery) async throws -> [CallRecord] {
        let terms = query.terms
        guard !terms.isEmpty, query.limit > 0 else { return [] }
        let tsquery = terms.indices.map { "phraseto_tsquery('simple', $\($0 + 1))" }.joined(separator: " && ")
        let now = WallClock.nowMicros()
        var upper = Int64.max
        var found: [CallRecord] = []
        for step in Self.searchSteps + [nil] {
            let lower = step.map { now - $0 } ?? .min
            var binds = PostgresBindings()
            for term in terms { binds.append(term) }
            binds.append(lower)
            binds.append(upper)
            binds.append(query.limit - found.count)
            let count = terms.count
            found += try await records(
                "search",
                PostgresQuery(
                    unsafeSQL: PostgresSchema.selectCalls + " WHERE search @@ (\(tsquery))"
                        + " AND ts_micros >= $\(count + 1) AND ts_micros < $\(count + 2)"
                        + " ORDER BY \(upper == .max ? "ts_micros" : "ts_micros + 0") DESC, action_id DESC"
                        + " LIMIT $\(count + 3)",
                    binds: binds))
            if found.count >= query.limit { break }
            upper = lower
        }
        return found
    }

    /// One pass over the range with grouping sets: the totals, then per bucket, per model, per agent and per bucket
    /// and model.
    package func stats(_ query: StatsQuery) async throws -> CallStats {
        var binds = PostgresBindings()
        binds.append(query.bucket.micros)
        binds.append(query.sinceMicros)
        binds.append(query.untilMicros)
        let sql = """
            SELECT GROUPING(bucket, model_id, agent_name) AS grouping, bucket, model_id, agent_name,
                \(PostgresSchema.exactCostSum(where: "NOT blocked")) AS spend, count(*) AS calls,
                coalesce(sum(tokens_in), 0)::bigint AS tokens_in, coalesce(sum(tokens_out), 0)::bigint AS tokens_out,
                count(*) FILTER (WHERE NOT blocked
                    AND (status_code IS NULL OR status_code >= 400 OR outcome <> 'completed')) AS errors,
                count(*) FILTER (WHERE blocked) AS blocked, count(*) FILTER (WHERE cost_usd IS NULL AND NOT blocked AND model_id IS NOT NULL AND tokens_in IS NOT NULL) AS unpriced,
                percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY latency_ms) AS latency
            FROM (
                SELECT ts_micros - ((ts_micros % $1) + $1) % $1 AS bucket, model_id, agent_name, cost_usd, tokens_in,
                    tokens_out, status_code, outcome, blocked, latency_ms
                FROM calls WHERE ts_micros BETWEEN $2 AND $3
            ) c
            GROUP BY GROUPING SETS ((), (bucket), (model_id), (agent_name), (bucket, model_id))
            """
        let statement = PostgresQuery(unsafeSQL: sql, binds: binds)
        let rows = try await bounded("stats") { client in try await client.query(statement).collect() }
        var totals = CallStats.Figures()
        var buckets: [CallStats.Bucket] = []
        var byModel: [CallStats.Group] = []
        var byAgent: [CallStats.Group] = []
        var bucketModels: [Int64: [String?: Double]] = [:]
        for row in rows {
            let cells = row.makeRandomAccess()
            var figures = CallStats.Figures()
            figures.spendUSD = Money.exact(try cells["spend"].decode(Double.self))
            figures.calls = try cells["calls"].decode(Int.self)
            figures.tokensIn = try cells["tokens_in"].decode(Int.self)
            figures.tokensOut = try cells["tokens_out"].decode(Int.self)
            figures.errors = try cells["errors"].decode(Int.self)
            figures.blocked = try cells["blocked"].decode(Int.self)
            figures.unpricedCalls = try cells["unpriced"].decode(Int.self)
            if let latency = try cells["latency"].decode([Double]?.self), latency.count == 3 {
                (figures.latencyP50MS, figures.latencyP95MS, figures.latencyP99MS) = (latency[0], latency[1], latency[2])
            }
            switch try cells["grouping"].decode(Int.self) {
            case 0b111: totals = figures
            case 0b011: buckets.append(CallStats.Bucket(startMicros: try cells["bucket"].decode(Int64.self), figures: figures))
            case 0b101: byModel.append(CallStats.Group(key: try cells["model_id"].decode(String?.self), figures: figures))
            case 0b110: byAgent.append(CallStats.Group(key: try cells["agent_name"].decode(String?.self), figures: figures))
            case 0b001:
                let bucket = try cells["bucket"].decode(Int64.self)
                bucketModels[bucket, default: [:]][try cells["model_id"].decode(String?.self)] = figures.spendUSD
            default: break
            }
        }
        for index in buckets.indices { buckets[index].spendByModel = bucketModels[buckets[index].startMicros] ?? [:] }
        return CallStats(query: query, totals: totals, buckets: buckets, byModel: byModel, byAgent: byAgent)
    }

    package func sessionCost(_ sessionID: String) async throws -> Double {
        let query = PostgresQuery(
            unsafeSQL: "SELECT total_cost_usd FROM sessions WHERE session_id = $1", binds: Self.bindings(sessionID))
        return try await bounded("session cost") { client in
            try await client.query(query).decode(Double.self).first { _ in true } ?? 0
        }
    }

    package func spend(sinceMicros: Int64) async throws -> SpendTotals {
        let query: PostgresQuery = """
            SELECT agent_name, user_id, app_id, model_id, environment,
                \(unescaped: PostgresSchema.exactCostSum()) FROM calls
            WHERE ts_micros >= \(sinceMicros) AND NOT blocked GROUP BY agent_name, user_id, app_id, model_id, environment
            """
        return try await bounded("spend") { client in
            var totals = SpendTotals()
            let rows = try await client.query(query).decode((String?, String?, String?, String?, String?, Double).self)
            for try await (agent, user, app, model, environment, amount) in rows {
                totals.add(amount, agent: agent, user: user, app: app, model: model, environment: environment)
            }
            return totals
        }
    }

    /// The calls a query selects, with their messages: one more query loads each distinct message once.
    func records(_ what: String, _ query: PostgresQuery) async throws -> [CallRecord] {
        try await bounded(what) { client in
            let rows = try await client.query(query).collect()
            var records = try rows.map(PostgresCallColumns.record(from:))
            let digests = try rows.map(PostgresCallColumns.messageDigests(from:))
            let needed = MessageDigest.distinct(digests)
            var bodies: [[UInt8]: String] = [:]
            if !needed.isEmpty {
                var binds = PostgresBindings()
                binds.append(needed.map { ByteBuffer(bytes: $0) })
                let messages = PostgresQuery(
                    unsafeSQL: "SELECT hash, body FROM messages WHERE hash = ANY($1::bytea[])", binds: binds)
                for try await (hash, body) in try await client.query(messages).decode((ByteBuffer, String).self) {
                    bodies[Array(hash.readableBytesView)] = body
                }
            }
            try MessageDigest.assemble(&records, digests: digests, bodies: bodies)
            return records
        }
    }
}
