/// The SQLite schema, as numbered migrations. Never edit a released one: add the next.
enum SQLiteSchema {
    static let migrations: [Migration] = [
        Migration(
            version: 1, name: "calls and session aggregates",
            statements: [
                """
                CREATE TABLE calls (
                    action_id TEXT PRIMARY KEY,
                    session_id TEXT,
                    ts_micros INTEGER NOT NULL,
                    model_id TEXT,
                    provider TEXT,
                    messages TEXT NOT NULL,
                    system_prompt TEXT,
                    tools TEXT,
                    tool_calls TEXT,
                    tool_results TEXT,
                    content TEXT,
                    stop_reason TEXT,
                    tokens_in INTEGER,
                    tokens_out INTEGER,
                    tokens_cache_read INTEGER,
                    tokens_cache_write INTEGER,
                    tokens_reasoning INTEGER,
                    cost_usd REAL,
                    price_table TEXT,
                    latency_ms REAL,
                    ttft_ms REAL,
                    stream INTEGER NOT NULL,
                    status_code INTEGER,
                    error_detail TEXT,
                    blocked INTEGER NOT NULL,
                    agent_name TEXT,
                    user_id TEXT,
                    app_id TEXT,
                    environment TEXT,
                    parent_action_id TEXT,
                    handoff_from TEXT,
                    handoff_to TEXT,
                    temperature REAL,
                    max_tokens INTEGER,
                    source TEXT,
                    outcome TEXT NOT NULL
                )
                """,
                "CREATE INDEX calls_by_session ON calls (session_id, ts_micros) WHERE session_id IS NOT NULL",
                "CREATE INDEX calls_by_time ON calls (ts_micros)",
                """
                CREATE TABLE sessions (
                    session_id TEXT PRIMARY KEY,
                    call_count INTEGER NOT NULL,
                    started_at INTEGER NOT NULL,
                    ended_at INTEGER NOT NULL,
                    total_latency_ms REAL NOT NULL,
                    total_tokens_in INTEGER NOT NULL,
                    total_tokens_out INTEGER NOT NULL,
                    total_cost_usd REAL NOT NULL,
                    error_count INTEGER NOT NULL,
                    blocked_count INTEGER NOT NULL,
                    model_id TEXT,
                    agent_name TEXT,
                    user_id TEXT,
                    environment TEXT
                )
                """,
                "CREATE INDEX sessions_by_start ON sessions (started_at DESC)",
            ]),
        Migration(
            version: 2, name: "full-text search, session filters by app and time",
            statements: [
                "ALTER TABLE sessions ADD COLUMN app_id TEXT",
                """
                UPDATE sessions SET app_id = (SELECT app_id FROM calls WHERE calls.session_id = sessions.session_id
                    AND app_id IS NOT NULL ORDER BY ts_micros DESC LIMIT 1)
                """,
                "CREATE INDEX sessions_by_end ON sessions (ended_at)",
                "CREATE INDEX sessions_by_agent ON sessions (agent_name, started_at DESC)",
                "CREATE INDEX sessions_by_user ON sessions (user_id, started_at DESC)",
                // Contentless: the calls table has the text; the index keeps only the words (`SearchText`).
                """
                CREATE VIRTUAL TABLE calls_search USING fts5(
                    document, content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 0')
                """,
                // Calls stored before this migration, indexed as well as SQL can without `SearchText`.
                """
                INSERT INTO calls_search (rowid, document)
                SELECT rowid, concat_ws(' ', agent_name, user_id, content, system_prompt,
                    (SELECT group_concat(value, ' ') FROM json_tree(calls.messages)
                        WHERE type = 'text' AND key NOT IN ('role', 'type', 'id', 'tool_call_id', 'tool_use_id')))
                FROM calls
                """,
            ]),
        Migration(
            version: 3, name: "messages stored once, calls hold their digests",
            statements: [
                // A rowid table: bodies are often larger than WITHOUT ROWID tables suit.
                "CREATE TABLE messages (hash BLOB NOT NULL UNIQUE, body TEXT NOT NULL)",
                "ALTER TABLE calls ADD COLUMN message_hashes BLOB NOT NULL DEFAULT x''",
                // json_quote passes an object or array through and quotes a bare string (functions: SQLiteMessageFunctions).
                """
                INSERT INTO messages (hash, body)
                SELECT agentledger_digest(body), body
                FROM (SELECT agentledger_message(json_quote(value)) AS body FROM calls, json_each(calls.messages))
                WHERE true
                ON CONFLICT (hash) DO NOTHING
                """,
                "UPDATE calls SET message_hashes = agentledger_digests(messages)",
                "ALTER TABLE calls DROP COLUMN messages",
            ]),
        Migration(
            version: 4, name: "sessions list the sidecars they were seen on",
            statements: [
                // A JSON array of distinct `source` values, first seen first, at most `SessionSummary.maximumSources`.
                "ALTER TABLE sessions ADD COLUMN sources TEXT NOT NULL DEFAULT '[]'",
                """
                UPDATE sessions SET sources = (SELECT json_group_array(source) FROM (
                    SELECT source FROM calls WHERE calls.session_id = sessions.session_id AND source IS NOT NULL
                    GROUP BY source ORDER BY min(ts_micros), source LIMIT 16))
                """,
            ]),
        Migration(
            // Postgres needed finer statistics for its search column; FTS5 plans need nothing, so the versions stay aligned.
            version: 5, name: "finer planner statistics for search words", statements: ["PRAGMA optimize"]),
        Migration(
            version: 6, name: "quarantine for records that cannot be stored",
            statements: [
                """
                CREATE TABLE quarantine (
                    digest BLOB PRIMARY KEY,
                    received_at INTEGER NOT NULL,
                    source TEXT,
                    action_id TEXT,
                    reason TEXT NOT NULL,
                    record BLOB NOT NULL
                )
                """,
                "CREATE INDEX quarantine_received_at ON quarantine (received_at)",
            ]),
        Migration(
            version: 7, name: "sessions count their unpriced calls; session totals summed exactly",
            statements: [
                "ALTER TABLE sessions ADD COLUMN unpriced_calls INTEGER NOT NULL DEFAULT 0",
                // Totals folded before sums were exact are summed again from their calls, in units of 1e-10 USD.
                """
                UPDATE sessions SET
                    unpriced_calls = (SELECT count(*) FROM calls WHERE calls.session_id = sessions.session_id
                        AND cost_usd IS NULL AND NOT blocked AND model_id IS NOT NULL AND tokens_in IS NOT NULL),
                    total_cost_usd = coalesce((SELECT sum(CAST(round(cost_usd * 1e10) AS INTEGER)) FROM calls
                        WHERE calls.session_id = sessions.session_id AND NOT blocked), 0) / 1e10
                """,
            ]),
        Migration(
            version: 8, name: "limits changed at run time, and their audit trail",
            statements: [
                """
                CREATE TABLE policy_overrides (
                    kind TEXT NOT NULL,
                    scope TEXT NOT NULL,
                    key TEXT NOT NULL,
                    limit_value REAL,
                    updated_at INTEGER NOT NULL,
                    PRIMARY KEY (kind, scope, key)
                )
                """,
                """
                CREATE TABLE policy_changes (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    changed_at INTEGER NOT NULL,
                    actor TEXT NOT NULL,
                    client TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    scope TEXT NOT NULL,
                    key TEXT NOT NULL,
                    action TEXT NOT NULL,
                    before_value REAL,
                    after_value REAL
                )
                """,
            ]),
        Migration(
            version: 9, name: "the fleet's sidecars",
            statements: [
                """
                CREATE TABLE sidecars (
                    source TEXT PRIMARY KEY,
                    software_version TEXT NOT NULL,
                    protocol_version INTEGER NOT NULL,
                    collector_id TEXT NOT NULL,
                    peer TEXT NOT NULL,
                    linked_at INTEGER NOT NULL,
                    last_seen INTEGER NOT NULL,
                    disconnected_at INTEGER,
                    calls_per_minute REAL,
                    status TEXT NOT NULL
                )
                """
            ]),
        Migration(
            version: 10, name: "messages note their newest call, for retention",
            statements: [
                // The time of the newest call holding the message (`Retention`). Older messages are given the newest
                // call's time: kept one whole retention from the upgrade, never deleted while a call still holds them.
                "ALTER TABLE messages ADD COLUMN last_used INTEGER NOT NULL DEFAULT 0",
                "UPDATE messages SET last_used = (SELECT coalesce(max(ts_micros), 0) FROM calls)",
                "CREATE INDEX messages_by_last_used ON messages (last_used)",
            ]),
        Migration(
            version: 11, name: "every session filter has an index",
            statements: [
                "CREATE INDEX sessions_by_app ON sessions (app_id, started_at DESC)",
                "CREATE INDEX sessions_by_environment ON sessions (environment, started_at DESC)",
            ]),
    ]

    /// Folds new calls into their sessions' aggregates, `rows` calls in one statement, in order (a session met twice
    /// in it adds twice). Binds per call, in order: `SQLiteStore.sessionBinds`, 17 values.
    static func upsertSessions(rows: Int) -> String {
        let row = "(?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, CASE WHEN ? IS NULL THEN '[]' ELSE json_array(?) END, ?)"
        return """
            INSERT INTO sessions (session_id, call_count, started_at, ended_at, total_latency_ms, total_tokens_in,
                total_tokens_out, total_cost_usd, error_count, blocked_count, model_id, agent_name, user_id, environment,
                app_id, sources, unpriced_calls)
            VALUES \(Array(repeating: row, count: rows).joined(separator: ", "))
            ON CONFLICT (session_id) DO UPDATE SET
                call_count = call_count + 1,
                started_at = min(started_at, excluded.started_at),
                ended_at = max(ended_at, excluded.ended_at),
                total_latency_ms = total_latency_ms + excluded.total_latency_ms,
                total_tokens_in = total_tokens_in + excluded.total_tokens_in,
                total_tokens_out = total_tokens_out + excluded.total_tokens_out,
                total_cost_usd = (CAST(round(total_cost_usd * 1e10) AS INTEGER) + CAST(round(excluded.total_cost_usd * 1e10) AS INTEGER))
                    / 1e10,
                error_count = error_count + excluded.error_count,
                blocked_count = blocked_count + excluded.blocked_count,
                unpriced_calls = unpriced_calls + excluded.unpriced_calls,
                model_id = coalesce(excluded.model_id, model_id),
                agent_name = coalesce(excluded.agent_name, agent_name),
                user_id = coalesce(excluded.user_id, user_id),
                environment = coalesce(excluded.environment, environment),
                app_id = coalesce(excluded.app_id, app_id),
                sources = CASE
                    WHEN excluded.sources ->> 0 IS NULL OR json_array_length(sources) >= \(SessionSummary.maximumSources)
                        OR EXISTS (SELECT 1 FROM json_each(sessions.sources) WHERE value = excluded.sources ->> 0) THEN sources
                    ELSE json_insert(sources, '$[#]', excluded.sources ->> 0) END
            """
    }

    static var latestVersion: Int { migrations.map(\.version).max() ?? 0 }
}
