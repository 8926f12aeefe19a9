/// The Postgres schema, as numbered migrations; the statements of `PostgresStore` are in
/// PostgresSchema+Statements.swift. Never edit a released migration: add the next.
///
/// Ids are `text COLLATE "C"` so they order byte-wise as on SQLite; JSON columns are `jsonb`; times are microseconds
/// since the epoch in `bigint`, with a generated `timestamptz` beside them for people writing SQL.
enum PostgresSchema {
    static let migrations: [Migration] = [
        Migration(
            version: 1, name: "calls and session aggregates",
            statements: [
                """
                CREATE TABLE calls (
                    action_id text COLLATE "C" PRIMARY KEY,
                    session_id text COLLATE "C",
                    ts_micros bigint NOT NULL,
                    ts timestamptz GENERATED ALWAYS AS
                        (('epoch'::timestamp + ts_micros * interval '1 microsecond') AT TIME ZONE 'UTC') STORED,
                    model_id text,
                    provider text,
                    messages jsonb NOT NULL,
                    system_prompt text,
                    tools jsonb,
                    tool_calls jsonb,
                    tool_results jsonb,
                    content text,
                    stop_reason text,
                    tokens_in bigint,
                    tokens_out bigint,
                    tokens_cache_read bigint,
                    tokens_cache_write bigint,
                    tokens_reasoning bigint,
                    cost_usd double precision,
                    price_table text,
                    latency_ms double precision,
                    ttft_ms double precision,
                    stream boolean NOT NULL,
                    status_code integer,
                    error_detail text,
                    blocked boolean NOT NULL,
                    agent_name text,
                    user_id text,
                    app_id text,
                    environment text,
                    parent_action_id text,
                    handoff_from text,
                    handoff_to text,
                    temperature double precision,
                    max_tokens bigint,
                    source text,
                    outcome text NOT NULL
                )
                """,
                "CREATE INDEX calls_by_session ON calls (session_id, ts_micros) WHERE session_id IS NOT NULL",
                "CREATE INDEX calls_by_time ON calls (ts_micros)",
                """
                CREATE TABLE sessions (
                    session_id text COLLATE "C" PRIMARY KEY,
                    call_count bigint NOT NULL,
                    started_at bigint NOT NULL,
                    ended_at bigint NOT NULL,
                    total_latency_ms double precision NOT NULL,
                    total_tokens_in bigint NOT NULL,
                    total_tokens_out bigint NOT NULL,
                    total_cost_usd double precision NOT NULL,
                    error_count bigint NOT NULL,
                    blocked_count bigint NOT NULL,
                    model_id text,
                    agent_name text,
                    user_id text,
                    environment text
                )
                """,
                "CREATE INDEX sessions_by_start ON sessions (started_at DESC, session_id)",
            ]),
        Migration(
            version: 2, name: "full-text search, session filters by app and time",
            statements: [
                "ALTER TABLE sessions ADD COLUMN app_id text",
                """
                UPDATE sessions s SET app_id = latest.app_id
                FROM (SELECT DISTINCT ON (session_id) session_id, app_id FROM calls
                    WHERE session_id IS NOT NULL AND app_id IS NOT NULL ORDER BY session_id, ts_micros DESC) latest
                WHERE latest.session_id = s.session_id
                """,
                "CREATE INDEX sessions_by_end ON sessions (ended_at)",
                "CREATE INDEX sessions_by_agent ON sessions (agent_name, started_at DESC)",
                "CREATE INDEX sessions_by_user ON sessions (user_id, started_at DESC)",
                // Filled at insert from `SearchText.document`, which Swift normalizes; 'simple' does no stemming.
                "ALTER TABLE calls ADD COLUMN search tsvector",
                // Calls stored before this migration, indexed as well as SQL can without `SearchText`.
                """
                UPDATE calls SET search = to_tsvector('simple',
                    left(concat_ws(' ', agent_name, user_id, content, system_prompt, messages::text), 200000))
                """,
                "CREATE INDEX calls_search ON calls USING gin (search)",
            ]),
        Migration(
            version: 3, name: "messages stored once, calls hold their digests",
            statements: [
                "CREATE TABLE messages (hash bytea PRIMARY KEY, body jsonb NOT NULL)",
                "ALTER TABLE calls ADD COLUMN message_hashes bytea",
                // Digests of the jsonb text: SQL cannot write the canonical text Swift hashes (`MessageDigest`), so a
                // conversation that goes on after the upgrade stores its history once more, then shares it again.
                """
                INSERT INTO messages (hash, body)
                SELECT sha256(convert_to(m::text, 'UTF8')), m FROM calls, jsonb_array_elements(calls.messages) AS m
                ON CONFLICT (hash) DO NOTHING
                """,
                """
                UPDATE calls SET message_hashes = coalesce(
                    (SELECT string_agg(sha256(convert_to(m::text, 'UTF8')), ''::bytea ORDER BY n)
                        FROM jsonb_array_elements(calls.messages) WITH ORDINALITY AS e(m, n)),
                    ''::bytea)
                """,
                "ALTER TABLE calls ALTER COLUMN message_hashes SET NOT NULL",
                "ALTER TABLE calls DROP COLUMN messages",
            ]),
        Migration(
            version: 4, name: "sessions list the sidecars they were seen on",
            statements: [
                // Distinct `source` values, first seen first, at most `SessionSummary.maximumSources`.
                "ALTER TABLE sessions ADD COLUMN sources text[] NOT NULL DEFAULT '{}'",
                """
                UPDATE sessions s SET sources = seen.sources
                FROM (
                    SELECT session_id, (array_agg(source ORDER BY first, source))[1:16] AS sources
                    FROM (SELECT session_id, source, min(ts_micros) AS first FROM calls
                        WHERE session_id IS NOT NULL AND source IS NOT NULL GROUP BY session_id, source) per_source
                    GROUP BY session_id
                ) seen
                WHERE seen.session_id = s.session_id
                """,
            ]),
        Migration(
            version: 5, name: "finer planner statistics for search words",
            statements: [
                // With the default sample, a rare word was estimated at thousands of matches, and the planner walked
                // the whole time index instead of the GIN index (4 s instead of 0.2 ms at 1M calls).
                "ALTER TABLE calls ALTER COLUMN search SET STATISTICS 1000",
                "ANALYZE calls",
            ]),
        Migration(
            version: 6, name: "quarantine for records that cannot be stored",
            statements: [
                """
                CREATE TABLE quarantine (
                    digest bytea PRIMARY KEY,
                    received_at bigint NOT NULL,
                    source text,
                    action_id text,
                    reason text NOT NULL,
                    record bytea NOT NULL
                )
                """,
                "CREATE INDEX quarantine_received_at ON quarantine (received_at)",
            ]),
        Migration(
            version: 7, name: "sessions count their unpriced calls; session totals summed exactly",
            statements: [
                "ALTER TABLE sessions ADD COLUMN unpriced_calls bigint NOT NULL DEFAULT 0",
                // Totals folded before sums were exact are summed again from their calls, as decimals.
                """
                UPDATE sessions SET unpriced_calls = folded.unpriced, total_cost_usd = folded.cost
                FROM (SELECT session_id, count(*) FILTER (WHERE cost_usd IS NULL AND NOT blocked AND model_id IS NOT NULL AND tokens_in IS NOT NULL) AS unpriced,
                        coalesce(sum(round(cost_usd::numeric, 10)) FILTER (WHERE NOT blocked), 0)::float8 AS cost
                    FROM calls WHERE session_id IS NOT NULL GROUP BY session_id) folded
                WHERE sessions.session_id = folded.session_id
                """,
            ]),
        Migration(
            version: 8, name: "limits changed at run time, and their audit trail",
            statements: [
                """
                CREATE TABLE policy_overrides (
                    kind text NOT NULL,
                    scope text NOT NULL,
                    key text NOT NULL,
                    limit_value double precision,
                    updated_at bigint NOT NULL,
                    PRIMARY KEY (kind, scope, key)
                )
                """,
                """
                CREATE TABLE policy_changes (
                    id bigserial PRIMARY KEY,
                    changed_at bigint NOT NULL,
                    actor text NOT NULL,
                    client text NOT NULL,
                    kind text NOT NULL,
                    scope text NOT NULL,
                    key text NOT NULL,
                    action text NOT NULL,
                    before_value double precision,
                    after_value double precision
                )
                """,
            ]),
        Migration(
            version: 9, name: "the enforcer's lease",
            statements: [
                // One row, always there: claiming it is an UPDATE of a locked row, never a race of INSERTs.
                """
                CREATE TABLE enforcer_lease (
                    name text PRIMARY KEY,
                    holder text NOT NULL,
                    address text NOT NULL,
                    epoch bigint NOT NULL,
                    expires_at timestamptz NOT NULL,
                    reservations text NOT NULL
                )
                """,
                "INSERT INTO enforcer_lease VALUES ('enforcer', '', '', 0, '-infinity', '[]')",
            ]),
        Migration(
            version: 10, name: "the fleet's sidecars",
            statements: [
                """
                CREATE TABLE sidecars (
                    source text PRIMARY KEY,
                    software_version text NOT NULL,
                    protocol_version bigint NOT NULL,
                    collector_id text NOT NULL,
                    peer text NOT NULL,
                    linked_at bigint NOT NULL,
                    last_seen bigint NOT NULL,
                    disconnected_at bigint,
                    calls_per_minute double precision,
                    status text NOT NULL
                )
                """
            ]),
        Migration(
            version: 11, name: "calls partitioned by day, their ids apart; messages note their newest call",
            statements: [
                // Retention drops a day of calls as one table, and reads bounded in time touch only their days
                // (docs/operations.md, "Retention and partitions"). A unique index on a partitioned table must hold
                // the partition key, so the ids live in `call_ids`, the one index that keeps a call from being stored
                // twice whatever time a replay carries, and the way to a call's day when only its id is known.
                "ALTER TABLE calls RENAME TO calls_unpartitioned",
                "ALTER INDEX calls_by_session RENAME TO calls_unpartitioned_by_session",
                "ALTER INDEX calls_by_time RENAME TO calls_unpartitioned_by_time",
                "ALTER INDEX calls_search RENAME TO calls_unpartitioned_search",
                "ALTER TABLE calls_unpartitioned DROP CONSTRAINT calls_pkey",
                """
                CREATE TABLE calls (
                    action_id text COLLATE "C" NOT NULL,
                    session_id text COLLATE "C",
                    ts_micros bigint NOT NULL,
                    ts timestamptz GENERATED ALWAYS AS
                        (('epoch'::timestamp + ts_micros * interval '1 microsecond') AT TIME ZONE 'UTC') STORED,
                    model_id text,
                    provider text,
                    system_prompt text,
                    tools jsonb,
                    tool_calls jsonb,
                    tool_results jsonb,
                    content text,
                    stop_reason text,
                    tokens_in bigint,
                    tokens_out bigint,
                    tokens_cache_read bigint,
                    tokens_cache_write bigint,
                    tokens_reasoning bigint,
                    cost_usd double precision,
                    price_table text,
                    latency_ms double precision,
                    ttft_ms double precision,
                    stream boolean NOT NULL,
                    status_code integer,
                    error_detail text,
                    blocked boolean NOT NULL,
                    agent_name text,
                    user_id text,
                    app_id text,
                    environment text,
                    parent_action_id text,
                    handoff_from text,
                    handoff_to text,
                    temperature double precision,
                    max_tokens bigint,
                    source text,
                    outcome text NOT NULL,
                    search tsvector,
                    message_hashes bytea NOT NULL
                ) PARTITION BY RANGE (ts_micros)
                """,
                "CREATE INDEX calls_by_session ON calls (session_id, ts_micros) WHERE session_id IS NOT NULL",
                "CREATE INDEX calls_by_time ON calls (ts_micros)",
                "CREATE INDEX calls_search ON calls USING gin (search)",
                "ALTER TABLE calls ALTER COLUMN search SET STATISTICS 1000",
                // Calls too far ahead for a day partition, or older than the oldest (a sidecar's spool replayed late).
                "CREATE TABLE calls_default PARTITION OF calls DEFAULT",
                "CREATE TABLE call_ids (action_id text COLLATE \"C\" NOT NULL, ts_micros bigint NOT NULL)",
                "INSERT INTO call_ids SELECT action_id, ts_micros FROM calls_unpartitioned",
                "ALTER TABLE call_ids ADD PRIMARY KEY (action_id)",
                // The calls stored so far stay where they are, as one partition up to the end of today (UTC): no copy.
                // Those timed later move to the default partition first. An empty table is dropped instead.
                """
                DO $$
                DECLARE
                    boundary bigint := (floor(extract(epoch FROM now()) / 86400)::bigint + 1) * 86400000000;
                BEGIN
                    IF NOT EXISTS (SELECT 1 FROM calls_unpartitioned) THEN
                        DROP TABLE calls_unpartitioned;
                        RETURN;
                    END IF;
                    INSERT INTO calls (\(PostgresCallColumns.stored.map(\.name).joined(separator: ", ")), search)
                    SELECT \(PostgresCallColumns.stored.map(\.name).joined(separator: ", ")), search
                    FROM calls_unpartitioned WHERE ts_micros >= boundary;
                    DELETE FROM calls_unpartitioned WHERE ts_micros >= boundary;
                    EXECUTE format('ALTER TABLE calls_unpartitioned ADD CONSTRAINT calls_unpartitioned_range'
                        ' CHECK (ts_micros < %s)', boundary);
                    EXECUTE format('ALTER TABLE calls ATTACH PARTITION calls_unpartitioned'
                        ' FOR VALUES FROM (MINVALUE) TO (%s)', boundary);
                    ALTER TABLE calls_unpartitioned DROP CONSTRAINT calls_unpartitioned_range;
                END
                $$
                """,
                // Given the newest call's time: kept one whole retention from the upgrade, never deleted while a
                // call holds them. A default, so the upgrade does not rewrite the table.
                """
                DO $$
                BEGIN
                    EXECUTE format('ALTER TABLE messages ADD COLUMN last_used bigint NOT NULL DEFAULT %s',
                        (SELECT coalesce(max(ts_micros), 0) FROM calls));
                END
                $$
                """,
                "ALTER TABLE messages ALTER COLUMN last_used DROP DEFAULT",
                "CREATE INDEX messages_by_last_used ON messages (last_used)",
            ]),
        Migration(
            version: 12, name: "every session filter has an index in the list's order",
            statements: [
                // Each index holds the whole sort key of `/api/sessions`, so a page, at any offset, is found in the
                // index alone and only its rows are read from the table (`PostgresStore.sessions`).
                "DROP INDEX sessions_by_agent",
                "DROP INDEX sessions_by_user",
                "CREATE INDEX sessions_by_agent ON sessions (agent_name, started_at DESC, session_id)",
                "CREATE INDEX sessions_by_user ON sessions (user_id, started_at DESC, session_id)",
                "CREATE INDEX sessions_by_app ON sessions (app_id, started_at DESC, session_id)",
                "CREATE INDEX sessions_by_environment ON sessions (environment, started_at DESC, session_id)",
            ]),
        Migration(
            version: 13, name: "no JIT compilation for the store's queries",
            statements: [
                // Postgres compiles a query whose estimated cost passes `jit_above_cost`, and over day partitions it
                // compiles every partition's expressions: a search for a rare word over a year of 100,000 calls a day
                // spent 6.7 s compiling and 3 ms running, and stats over 30 days 1.1 s compiling and ran slower
                // (docs/benchmarks.md, "JIT"). A setting of the database, not a startup parameter: PgBouncer refuses
                // startup parameters it does not know. A role that may not alter the database keeps JIT (the
                // migration goes on); the database's owner can run the same statement (docs/operations.md).
                """
                DO $$
                BEGIN
                    EXECUTE format('ALTER DATABASE %I SET jit = off', current_database());
                EXCEPTION WHEN OTHERS THEN
                    RAISE NOTICE 'JIT stays on for this database (%): ALTER DATABASE % SET jit = off', SQLERRM,
                        quote_ident(current_database());
                END
                $$
                """
            ]),
    ]

    static var latestVersion: Int { migrations.map(\.version).max() ?? 0 }

    static let createMigrationsTable = """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())
        """

    /// Held for the migration transaction, so collectors starting together migrate one after the other.
    static let migrationLockKey = 0x6167_6c65_6467_6572  // "agledger"
}
