/// The statements of `PostgresStore` that are not migrations: the batch insert and the calls' columns as read.
extension PostgresSchema {
    /// The columns the session aggregates read, unnested a second time for the calls found new: the whole rows are
    /// read once, by the insert, so Postgres does not copy them into a materialized CTE.
    private static let sessionColumns: Set<String> = [
        "action_id", "session_id", "ts_micros", "ended_at", "latency_ms", "tokens_in", "tokens_out", "cost_usd",
        "blocked", "is_error", "model_id", "agent_name", "user_id", "environment", "app_id", "source",
    ]

    /// One statement, so one round trip and one transaction: unnest the column arrays, insert the batch's distinct
    /// messages the store lacks (noting on those it has the time of the newest call holding them, when that moved by
    /// more than `Retention.messageTouchSlackMicros`), claim the batch's ids in `call_ids`, insert the calls whose ids
    /// were new (with their search words: their own, and those of the
    /// new messages they are first to hold; bound as the `tsvector` Swift made of them, when there is one and
    /// every message a call was first to hold is new, else parsed), fold exactly those into their sessions (one row per
    /// session; the last non-null name of the batch wins, as on SQLite; blocked calls cost nothing), and answer the new
    /// calls' ids.
    ///
    /// When every call of the batch is new, as nearly always, the sessions' rows are the ones Swift folded and bound
    /// (`sessionArrays`); Postgres folds the new calls itself only when some were already stored (a replay). Each
    /// path is behind a one-time filter, so the other is never run.
    ///
    /// Calls are written in the order they are bound, which is the order of their sidecar's spool: two collectors
    /// given overlapping batches (a replay) lock their rows in the same order, and Postgres has no wide rows to sort.
    /// Messages are inserted and noted in the order of their digests, so batches holding the same messages (a system
    /// prompt every call resends) lock them in one order and never deadlock (the note runs last, after the main query).
    static let insertBatch: String = {
        let columns = PostgresCallColumns.batch
        let arrays = columns.indices.map { "$\($0 + 1)::\(columns[$0].arrayType)" }.joined(separator: ", ")
        let names = columns.map(\.name).joined(separator: ", ")
        let stored = PostgresCallColumns.stored
        let storedNames = stored.map(\.name).joined(separator: ", ")
        let storedValues = stored.map { $0.isJSON ? "\($0.name)::jsonb" : $0.name }.joined(separator: ", ")
        var next = columns.count
        /// `unnest` arguments and column names of the binds after the columns': "name type" each.
        func unnested(_ binds: [String]) -> (arrays: String, names: String) {
            defer { next += binds.count }
            let parts = binds.map { $0.split(separator: " ") }
            return (
                parts.indices.map { "$\(next + $0 + 1)::\(parts[$0][1])" }.joined(separator: ", "),
                parts.map { String($0[0]) }.joined(separator: ", ")
            )
        }
        let message = unnested(PostgresCallColumns.messageArrays)
        let session = unnested(PostgresCallColumns.sessionArrays)
        let sessionSource = unnested(PostgresCallColumns.sessionSourceArrays)
        let summarized = columns.indices.filter { sessionColumns.contains(columns[$0].name) }
        let summaryArrays = summarized.map { "$\($0 + 1)::\(columns[$0].arrayType)" }.joined(separator: ", ")
        let summaryNames = summarized.map { columns[$0].name }.joined(separator: ", ")
        let allNew = "(SELECT calls FROM inserted_count) = cardinality($1::text[])"
        let idArrays = ["action_id", "ts_micros"].map { name in
            let index = columns.firstIndex { $0.name == name }!
            return "$\(index + 1)::\(columns[index].arrayType)"
        }.joined(separator: ", ")
        func latest(_ column: String) -> String {
            "(array_agg(\(column) ORDER BY ord DESC) FILTER (WHERE \(column) IS NOT NULL))[1]"
        }
        return """
            WITH message AS (
                SELECT * FROM unnest(\(message.arrays)) AS m(\(message.names))
            ),
            new_message AS (
                INSERT INTO messages (hash, body, last_used) SELECT hash, body::jsonb, last_used FROM message ORDER BY hash
                ON CONFLICT (hash) DO NOTHING
                RETURNING hash
            ),
            touched AS (
                UPDATE messages SET last_used = stale.last_used
                FROM (
                    SELECT held.hash, message.last_used FROM messages held JOIN message USING (hash)
                    WHERE held.last_used < message.last_used - \(Retention.messageTouchSlackMicros)
                    ORDER BY held.hash FOR UPDATE OF held
                ) stale
                WHERE messages.hash = stale.hash
            ),
            new_id AS (
                INSERT INTO call_ids (action_id, ts_micros)
                SELECT action_id, ts_micros FROM unnest(\(idArrays)) WITH ORDINALITY AS id(action_id, ts_micros, ord)
                ORDER BY ord
                ON CONFLICT (action_id) DO NOTHING
                RETURNING action_id AS new_action_id
            ),
            brought AS (
                SELECT owner, string_agg(words, ' ' ORDER BY position DESC) AS words, count(*) AS new_messages
                FROM message JOIN new_message USING (hash) GROUP BY owner
            ),
            inserted AS (
                INSERT INTO calls (\(storedNames), search)
                SELECT \(storedValues),
                    CASE WHEN search_vector IS NOT NULL AND coalesce(brought.new_messages, 0) = owned
                        THEN search_vector
                        ELSE to_tsvector('simple', concat_ws(' ', search_text, brought.words)) END
                FROM unnest(\(arrays)) WITH ORDINALITY AS batch(\(names), ord)
                    JOIN new_id ON new_id.new_action_id = batch.action_id COLLATE "C"
                    LEFT JOIN brought ON brought.owner = batch.ord
                ORDER BY ord
                RETURNING action_id
            ),
            inserted_count AS (
                SELECT count(*) AS calls FROM inserted
            ),
            fresh AS (
                SELECT summary.* FROM unnest(\(summaryArrays)) WITH ORDINALITY AS summary(\(summaryNames), ord)
                    JOIN inserted ON inserted.action_id = summary.action_id COLLATE "C"
                WHERE NOT \(allNew)
            ),
            fresh_sources AS (
                SELECT session_id, (array_agg(source ORDER BY first))[1:\(SessionSummary.maximumSources)] AS sources
                FROM (SELECT session_id, source, min(ord) AS first FROM fresh
                    WHERE session_id IS NOT NULL AND source IS NOT NULL GROUP BY session_id, source) per_source
                GROUP BY session_id
            ),
            folded_here AS (
                SELECT session_id, count(*), min(ts_micros), max(ended_at), sum(coalesce(latency_ms, 0)),
                    sum(coalesce(tokens_in, 0)), sum(coalesce(tokens_out, 0)),
                    coalesce(sum(round(cost_usd::numeric, 10)) FILTER (WHERE NOT blocked), 0)::float8,
                    count(*) FILTER (WHERE is_error), count(*) FILTER (WHERE blocked),
                    \(latest("model_id")), \(latest("agent_name")), \(latest("user_id")), \(latest("environment")),
                    \(latest("app_id")), count(*) FILTER (WHERE cost_usd IS NULL AND NOT blocked AND model_id IS NOT NULL AND tokens_in IS NOT NULL),
                    coalesce(fresh_sources.sources, '{}')
                FROM fresh LEFT JOIN fresh_sources USING (session_id) WHERE session_id IS NOT NULL
                GROUP BY session_id, fresh_sources.sources
            ),
            bound_sources AS (
                SELECT session, array_agg(source ORDER BY n) AS sources
                FROM unnest(\(sessionSource.arrays)) WITH ORDINALITY AS bound(\(sessionSource.names), n)
                WHERE \(allNew)
                GROUP BY session
            ),
            folded_bound AS (
                SELECT \(session.names), coalesce(bound_sources.sources, '{}')
                FROM unnest(\(session.arrays)) WITH ORDINALITY AS bound(\(session.names), n)
                    LEFT JOIN bound_sources ON bound_sources.session = bound.n
                WHERE \(allNew)
            ),
            folded AS (
                INSERT INTO sessions AS s (session_id, call_count, started_at, ended_at, total_latency_ms,
                    total_tokens_in, total_tokens_out, total_cost_usd, error_count, blocked_count,
                    model_id, agent_name, user_id, environment, app_id, unpriced_calls, sources)
                SELECT * FROM (SELECT * FROM folded_bound UNION ALL SELECT * FROM folded_here) folded_rows
                ORDER BY session_id COLLATE "C"
                ON CONFLICT (session_id) DO UPDATE SET
                    call_count = s.call_count + excluded.call_count,
                    started_at = least(s.started_at, excluded.started_at),
                    ended_at = greatest(s.ended_at, excluded.ended_at),
                    total_latency_ms = s.total_latency_ms + excluded.total_latency_ms,
                    total_tokens_in = s.total_tokens_in + excluded.total_tokens_in,
                    total_tokens_out = s.total_tokens_out + excluded.total_tokens_out,
                    total_cost_usd = (round(s.total_cost_usd::numeric, 10) + round(excluded.total_cost_usd::numeric, 10))::float8,
                    error_count = s.error_count + excluded.error_count,
                    blocked_count = s.blocked_count + excluded.blocked_count,
                    unpriced_calls = s.unpriced_calls + excluded.unpriced_calls,
                    model_id = coalesce(excluded.model_id, s.model_id),
                    agent_name = coalesce(excluded.agent_name, s.agent_name),
                    user_id = coalesce(excluded.user_id, s.user_id),
                    environment = coalesce(excluded.environment, s.environment),
                    app_id = coalesce(excluded.app_id, s.app_id),
                    sources = CASE
                        WHEN excluded.sources <@ s.sources OR cardinality(s.sources) >= \(SessionSummary.maximumSources)
                            THEN s.sources
                        ELSE (SELECT array_agg(source ORDER BY first) FROM (
                            SELECT source, min(n) AS first FROM unnest(s.sources || excluded.sources)
                                WITH ORDINALITY AS merged(source, n)
                            GROUP BY source ORDER BY first LIMIT \(SessionSummary.maximumSources)) kept)
                        END
            )
            SELECT action_id FROM inserted
            """
    }()

    /// The sum of `cost_usd` over the rows `filter` keeps (every row when nil), as float8: the exact sum of each cost
    /// rounded to 10⁻¹⁰ USD, as `sum(round(cost_usd::numeric, 10))` is, but summed as integers of 10⁻¹⁰ USD where a
    /// cost fits one exactly (below 100,000 USD a call, every real one; a cost exactly halfway between two units may
    /// round to the other one): the numeric arithmetic took half the time of stats over 30 days (docs/benchmarks.md,
    /// "money summed as integers"). Larger, or NaN, costs go the numeric way.
    static func exactCostSum(where filter: String? = nil) -> String {
        let kept = filter.map { " AND (\($0))" } ?? ""
        return "(coalesce(sum(round(cost_usd * 1e10::float8)::int8) FILTER (WHERE abs(cost_usd) < 1e5\(kept)), 0)::numeric"
            + " / 1e10 + coalesce(sum(round(cost_usd::numeric, 10)) FILTER (WHERE NOT abs(cost_usd) < 1e5\(kept)), 0))::float8"
    }

    static let selectCalls = "SELECT \(PostgresCallColumns.stored.map(\.name).joined(separator: ", ")) FROM calls"
}
