import LedgerProtocol
import Logging
import NIOCore
import PostgresNIO
import ServiceLifecycle

/// The fleet's store: Postgres through a pooled `PostgresClient`.
///
/// The store is a `Service`: its `run()` runs the pool and must be in the service group (first, so it stops last)
/// for anything but `migrate()` to work. `migrate()` uses a connection of its own, so it runs before the group starts
/// and fails fast with the reason when the database cannot be reached.
package final class PostgresStore: Store, Service {
    /// Settings of the pool and of each operation; the defaults suit a collector.
    package struct Options: Sendable {
        /// How long an operation may wait for a connection and the answer. Past it the operation throws, so a batch is
        /// reported `store_unavailable` (the sidecar keeps it) rather than holding its link while Postgres is down.
        package var operationTimeout: Duration = .seconds(10)
        /// How long `migrate()` may take to connect.
        package var connectTimeout: Duration = .seconds(10)
        package var maximumConnections = 20
        /// This collector's replica id: set, each insert is announced to the other collectors of the store
        /// (`PostgresStore+Replicas.swift`). Nil: announce nothing.
        package var replicaID: String?
        /// `AGENTLEDGER_RETENTION_DAYS`, so that `migrate()` makes no partition for days retention would drop.
        package var retention: Retention?

        package init() {}
    }

    let dsn: PostgresDSN
    let options: Options
    let client: PostgresClient
    let logger: Logger

    package init(dsn: PostgresDSN, options: Options = Options(), logger: Logger) {
        self.dsn = dsn
        self.options = options
        self.logger = logger
        var configuration = dsn.clientConfiguration
        configuration.options.connectTimeout = options.connectTimeout
        configuration.options.maximumConnections = options.maximumConnections
        client = PostgresClient(configuration: configuration, backgroundLogger: logger)
    }

    /// Runs the connection pool until cancelled or until graceful shutdown.
    package func run() async throws {
        await client.run()
    }

    package func migrate() async throws {
        var configuration = try dsn.connectionConfiguration()
        configuration.options.connectTimeout = TimeAmount(options.connectTimeout)
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
        } catch {
            throw StoreError("cannot connect to \(dsn.redacted): \(Self.describe(error))")
        }
        do {
            try await migrate(on: connection)
        } catch {
            try? await connection.close()
            throw error
        }
        try await connection.close()
    }

    /// Applies every pending migration in one transaction, under an advisory lock.
    private func migrate(on connection: PostgresConnection) async throws {
        let logger = self.logger
        let applied: [Migration]
        do {
            applied = try await connection.withTransaction(logger: logger) { connection in
                try await connection.query("SELECT pg_advisory_xact_lock(\(PostgresSchema.migrationLockKey))", logger: logger)
                try await connection.query(PostgresQuery(unsafeSQL: PostgresSchema.createMigrationsTable), logger: logger)
                var done = Set<Int>()
                for try await version in try await connection.query("SELECT version FROM schema_migrations", logger: logger)
                    .decode(Int.self)
                {
                    done.insert(version)
                }
                let pending = PostgresSchema.migrations.filter { !done.contains($0.version) }
                for migration in pending {
                    for statement in migration.statements {
                        try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                    }
                    try await connection.query(
                        "INSERT INTO schema_migrations (version, name) VALUES (\(migration.version), \(migration.name))",
                        logger: logger)
                }
                return pending
            }
        } catch {
            throw StoreError("migrating \(dsn.redacted) failed: \(Self.describe(error))")
        }
        for migration in applied {
            logger.info("applied migration", metadata: ["version": "\(migration.version)", "name": "\(migration.name)"])
        }
        // The days about to be stored, and those a spool may replay, have their partitions before the first batch
        // (`StoreMaintenance` keeps them). Dropping what the retention asks is left to it.
        do {
            let now = WallClock.nowMicros()
            let cutoff = options.retention?.cutoffMicros(now: now)
            _ = try await connection.withTransaction(logger: logger) { connection in
                try await Self.upkeepPartitions(
                    on: connection, today: Retention.dayStart(now), cutoff: cutoff, logger: logger)
            }
        } catch {
            logger.warning(
                "the coming days' partitions were not made; calls go to calls_default until they are",
                metadata: ["error": "\(Self.describe(error))"])
        }
    }

    package func insert(_ records: [CallRecord]) async throws -> InsertResult {
        // Filtering copies every record, so only a batch that repeats an action id is filtered.
        let unique: [CallRecord]
        var ids = Set<String>(minimumCapacity: records.count)
        for index in records.indices { ids.insert(records[index].actionID) }
        if ids.count == records.count {
            unique = records
        } else {
            var seen = Set<String>()
            unique = records.filter { seen.insert($0.actionID).inserted }
        }
        guard !unique.isEmpty else { return InsertResult(newActionIDs: [], duplicates: records.count) }
        let statement = PostgresInsertBatch(bindings: PostgresCallColumns.bindings(for: unique))
        let new = try await bounded("insert of \(records.count) records") { client in
            var new = Set<String>()
            for try await actionID in try await client.execute(statement) { new.insert(actionID) }
            return new
        }
        if let replica = options.replicaID { await announce(new, replica: replica) }
        return InsertResult(newActionIDs: new, duplicates: records.count - new.count)
    }

    package func checkReady() async throws {
        let latest = PostgresSchema.latestVersion
        // Probes answer fast: a store that cannot answer a tiny query in 2 s is not ready.
        let applied = try await bounded("the readiness check", timeout: .seconds(2)) { client in
            try await client.query("SELECT coalesce(max(version), 0) FROM schema_migrations").decode(Int.self)
                .first { _ in true } ?? 0
        }
        guard applied >= latest else { throw StoreError("migrations pending: at \(applied), need \(latest)") }
        // A newer collector migrated the store past what this one knows: its writes could fail in ways it would take
        // for bad records, so it stands aside (transient: batches stay with their sidecars for an upgraded collector).
        guard applied <= latest else {
            throw StoreError(
                "the store is at migration \(applied), newer than this collector's \(latest): upgrade this collector",
                transient: true)
        }
    }

    /// The pool closes when `run()` ends; there is nothing else to release.
    package func close() async throws {}

    static func bindings(_ value: String) -> PostgresBindings {
        var bindings = PostgresBindings()
        bindings.append(value)
        return bindings
    }

    /// Runs `body` on the pool, failing with a `StoreError` once `operationTimeout` has passed or Postgres fails.
    func bounded<T: Sendable>(
        _ what: String, timeout: Duration? = nil, _ body: @escaping @Sendable (PostgresClient) async throws -> T
    ) async throws -> T {
        let client = self.client
        let timeout = timeout ?? options.operationTimeout
        do {
            return try await withThrowingTaskGroup(of: T.self) { group in
                group.addTask { try await body(client) }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    throw StoreError("Postgres did not answer within \(timeout)", transient: true)
                }
                defer { group.cancelAll() }
                guard let result = try await group.next() else { throw CancellationError() }
                return result
            }
        } catch let error as StoreError {
            throw StoreError("\(what) failed: \(error.message)", transient: error.transient)
        } catch {
            throw StoreError("\(what) failed: \(Self.describe(error))", transient: Self.isTransient(error))
        }
    }

    /// Whether Postgres failed for a reason that passes (SQLSTATE classes 08 connection, 40 transaction rollback, 53
    /// insufficient resources, 57 operator intervention, and 55P03 lock not available), or before it answered at all.
    static func isTransient(_ error: any Error) -> Bool {
        if let error = error as? PostgresTransactionError {
            return isTransient(error.closureError ?? error.commitError ?? error.beginError ?? error.rollbackError ?? error)
        }
        guard let error = error as? PSQLError else { return false }
        guard let state = error.serverInfo?[.sqlState] else { return true }  // the connection, not the server
        return ["08", "40", "53", "57"].contains(String(state.prefix(2))) || state == "55P03"
    }

    /// What went wrong, with the server's message when there is one (a `PSQLError`'s description hides it).
    static func describe(_ error: any Error) -> String {
        if let error = error as? PostgresTransactionError {
            return describe(error.closureError ?? error.commitError ?? error.beginError ?? error.rollbackError ?? error)
        }
        guard let error = error as? PSQLError else { return "\(error)" }
        if let server = error.serverInfo, let message = server[.message] {
            return "\(message) (SQLSTATE \(server[.sqlState] ?? "?"))"
        }
        if let underlying = error.underlying { return "\(error.code): \(underlying)" }
        return "\(error.code)"
    }
}
