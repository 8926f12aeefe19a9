import Logging
import NIOCore
import NIOPosix
import SQLiteNIO

/// The embedded store of `agentledger up`: one SQLite file in WAL mode, a writer connection and a reader; with a
/// `StorageThread`, a second writer on its catch-up thread (`currentWriter`).
package final class SQLiteStore: Store {
    /// The writer on the storage thread's background thread (or the shared pool): migrations, and every write while
    /// storage keeps up.
    let writer: SQLiteConnection
    /// The writer on the storage thread's catch-up thread; `writer` itself without a storage thread.
    let catchUpWriter: SQLiteConnection
    let reader: SQLiteConnection
    let writeLock = AsyncLock()
    /// Where the writers' statements run, when the store was given threads of its own; stopped by `close()`.
    package let storageThread: StorageThread?
    private let logger: Logger

    /// Opens (and creates) the database at `path`; `:memory:` keeps it in memory for tests. With `storageThread`,
    /// the writers' statements run on its threads, and the store stops them when it closes.
    package static func open(path: String, storageThread: StorageThread? = nil, logger: Logger) async throws -> SQLiteStore {
        let storage: SQLiteConnection.Storage = path == ":memory:" ? .memory : .file(path: path)
        let loop = MultiThreadedEventLoopGroup.singleton.any()
        let writer = try await SQLiteConnection.open(
            storage: storage, threadPool: storageThread?.background ?? .singleton, logger: logger, on: loop)
        // An in-memory database is private to its connection, so everything uses the one writer there.
        let memory = path == ":memory:"
        let catchUpWriter =
            if let storageThread, !memory {
                try await SQLiteConnection.open(storage: storage, threadPool: storageThread.catchUp, logger: logger, on: loop)
            } else { writer }
        let reader = memory ? writer : try await SQLiteConnection.open(storage: storage, logger: logger)
        let store = SQLiteStore(
            writer: writer, catchUpWriter: catchUpWriter, reader: reader, storageThread: storageThread, logger: logger)
        try await store.configure()
        return store
    }

    private init(
        writer: SQLiteConnection, catchUpWriter: SQLiteConnection, reader: SQLiteConnection, storageThread: StorageThread?,
        logger: Logger
    ) {
        self.writer = writer
        self.catchUpWriter = catchUpWriter
        self.reader = reader
        self.storageThread = storageThread
        self.logger = logger
    }

    /// The writer for a transaction starting now: the catch-up one while storage is behind. A transaction keeps the
    /// one it started on.
    var currentWriter: SQLiteConnection { storageThread?.isCatchingUp == true ? catchUpWriter : writer }

    /// The writers, each once (one without a storage thread).
    private var writers: [SQLiteConnection] { catchUpWriter === writer ? [writer] : [writer, catchUpWriter] }

    /// Every connection, each once, `writer` first (an in-memory store has only that one).
    private var connections: [SQLiteConnection] { writers + (reader === writer ? [] : [reader]) }

    private func configure() async throws {
        // FULL: a commit is on disk before it returns, so an ACK never precedes durability (docs/operations.md,
        // "Limits and hardening"); in WAL mode NORMAL could lose the last commits to a power cut. WAL is a setting of
        // the file, made once.
        _ = try await writer.query("PRAGMA journal_mode = WAL")
        for connection in connections {
            for pragma in ["PRAGMA synchronous = FULL", "PRAGMA busy_timeout = 5000"] { _ = try await connection.query(pragma) }
        }
        for writer in writers { try await SQLiteMessageFunctions.install(on: writer) }
    }

    package func migrate() async throws {
        try await writeLock.withLock {
            _ = try await writer.query(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)"
            )
            let applied = Set(
                try await writer.query("SELECT version FROM schema_migrations").compactMap { $0.column("version")?.integer })
            for migration in SQLiteSchema.migrations where !applied.contains(migration.version) {
                _ = try await writer.query("BEGIN IMMEDIATE")
                do {
                    for statement in migration.statements { _ = try await writer.query(statement) }
                    _ = try await writer.query(
                        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, strftime('%s','now'))",
                        [.integer(migration.version), .text(migration.name)])
                    _ = try await writer.query("COMMIT")
                } catch {
                    _ = try? await writer.query("ROLLBACK")
                    throw StoreError("migration \(migration.version) (\(migration.name)) failed: \(error)")
                }
                logger.info("applied migration", metadata: ["version": "\(migration.version)", "name": "\(migration.name)"])
            }
        }
    }

    /// Calls per statement when writing a batch. sqlite-nio parses and plans every statement anew and runs each on
    /// its thread pool (one hop there and back), which made a statement per call and table most of what a stored
    /// call cost (docs/benchmarks.md, issue 20's profile); a batch's calls share statements instead. 100 calls bind
    /// 3,600 values, within SQLite's limit of 32,766.
    static let callsPerStatement = 100

    /// `rows` calls; answers the row id of each one new to the store, with its action id (a call already stored is
    /// left as it is: replays are not stored twice).
    private static func insertCalls(rows: Int) -> String {
        let row = "(" + Array(repeating: "?", count: CallRecord.columns.count).joined(separator: ", ") + ")"
        return "INSERT INTO calls (\(CallRecord.columns.joined(separator: ", "))) VALUES "
            + Array(repeating: row, count: rows).joined(separator: ", ")
            + " ON CONFLICT (action_id) DO NOTHING RETURNING rowid, action_id"
    }

    private static func indexCalls(rows: Int) -> String {
        "INSERT INTO calls_search (rowid, document) VALUES " + Array(repeating: "(?, ?)", count: rows).joined(separator: ", ")
    }

    private static let insertFullStatement = insertCalls(rows: callsPerStatement)
    private static let indexFullStatement = indexCalls(rows: callsPerStatement)
    private static let upsertFullStatement = SQLiteSchema.upsertSessions(rows: callsPerStatement)

    /// Messages new to the store are written once; each call then stores their digests and indexes for search
    /// the messages it brought (those new to the store that it holds first in the batch), not the history it resends.
    package func insert(_ records: [CallRecord]) async throws -> InsertResult {
        guard !records.isEmpty else { return InsertResult(newActionIDs: [], duplicates: 0) }
        let batch = MessageBatch(records)
        return try await writeTransaction { writer in
            let fresh = try await storeNewMessages(batch.messages, on: writer)
            let owned = batch.owned(fresh)
            var new = Set<String>()
            for start in stride(from: 0, to: records.count, by: Self.callsPerStatement) {
                let chunk = start..<min(start + Self.callsPerStatement, records.count)
                let full = chunk.count == Self.callsPerStatement
                var binds: [SQLiteData] = []
                binds.reserveCapacity(chunk.count * CallRecord.columns.count)
                for index in chunk {
                    binds.append(contentsOf: records[index].sqliteBinds(messageHashes: batch.digests[index]))
                }
                let inserted = try await writer.query(
                    full ? Self.insertFullStatement : Self.insertCalls(rows: chunk.count), binds)
                var rowIDs: [String: Int] = [:]
                for row in inserted {
                    if let actionID = row.column("action_id")?.string, let rowID = row.column("rowid")?.integer {
                        rowIDs[actionID] = rowID
                    }
                }
                // In the batch's order: of two calls with one action id, the first was stored.
                var documents: [SQLiteData] = []
                var sessions: [SQLiteData] = []
                for index in chunk {
                    let record = records[index]
                    guard let rowID = rowIDs.removeValue(forKey: record.actionID) else { continue }
                    new.insert(record.actionID)
                    documents.append(.integer(rowID))
                    documents.append(.text(SearchText.document(for: record, messages: owned[index])))
                    if record.sessionID != nil { sessions.append(contentsOf: Self.sessionBinds(record)) }
                }
                let indexed = documents.count / 2
                if indexed > 0 {
                    _ = try await writer.query(
                        indexed == Self.callsPerStatement ? Self.indexFullStatement : Self.indexCalls(rows: indexed),
                        documents)
                }
                let sessionRows = sessions.count / Self.sessionBindCount
                if sessionRows > 0 {
                    _ = try await writer.query(
                        sessionRows == Self.callsPerStatement
                            ? Self.upsertFullStatement : SQLiteSchema.upsertSessions(rows: sessionRows),
                        sessions)
                }
            }
            return InsertResult(newActionIDs: new, duplicates: records.count - new.count)
        }
    }

    /// Runs `body` in one transaction under the write lock, committed when it returns and rolled back when it throws;
    /// SQLite's busy and locked failures come out transient (`classified`).
    func writeTransaction<T: Sendable>(_ body: @Sendable (SQLiteConnection) async throws -> T) async throws -> T {
        try await writeLock.withLock {
            let writer = currentWriter
            // Taking the write lock is where another process holding it shows first.
            do { _ = try await writer.query("BEGIN IMMEDIATE") } catch { throw Self.classified(error) }
            do {
                let result = try await body(writer)
                _ = try await writer.query("COMMIT")
                return result
            } catch {
                _ = try? await writer.query("ROLLBACK")
                throw Self.classified(error)
            }
        }
    }

    /// Rows per statement when looking up or writing messages, within SQLite's limit on bound values.
    private static let messageChunk = 250

    /// Writes the messages the store does not hold yet and answers them. Runs in the insert's transaction, which
    /// holds the database's write lock, so nothing else adds messages meanwhile.
    private func storeNewMessages(
        _ messages: [MessageBatch.Message], on writer: SQLiteConnection
    ) async throws -> [MessageBatch.Message] {
        var known: [[UInt8]: Int64] = [:]
        for start in stride(from: 0, to: messages.count, by: Self.messageChunk) {
            let chunk = messages[start..<min(start + Self.messageChunk, messages.count)]
            let rows = try await writer.query(
                "SELECT hash, last_used FROM messages WHERE hash IN ("
                    + Array(repeating: "?", count: chunk.count).joined(separator: ", ") + ")",
                chunk.map { .blob(ByteBuffer(bytes: $0.digest)) })
            for row in rows {
                if let hash = row.column("hash")?.blob {
                    known[Array(hash.readableBytesView)] = Int64(row.column("last_used")?.saturatingInteger ?? 0)
                }
            }
        }
        var fresh: [MessageBatch.Message] = []
        for message in messages {
            guard let lastUsed = known[message.digest] else {
                fresh.append(message)
                continue
            }
            // Held by a newer call than the store noted: noted again, at most once per `messageTouchSlackMicros`.
            if lastUsed < message.lastUsedMicros - Retention.messageTouchSlackMicros {
                _ = try await writer.query(
                    "UPDATE messages SET last_used = ? WHERE hash = ?",
                    [.integer(Int(message.lastUsedMicros)), .blob(ByteBuffer(bytes: message.digest))])
            }
        }
        for start in stride(from: 0, to: fresh.count, by: Self.messageChunk) {
            let chunk = fresh[start..<min(start + Self.messageChunk, fresh.count)]
            _ = try await writer.query(
                "INSERT INTO messages (hash, body, last_used) VALUES "
                    + Array(repeating: "(?, ?, ?)", count: chunk.count).joined(separator: ", "),
                chunk.flatMap {
                    [.blob(ByteBuffer(bytes: $0.digest)), .text($0.text), .integer(Int($0.lastUsedMicros))]
                })
        }
        return fresh
    }

    /// `error` as a transient `StoreError` when SQLite was only busy (another connection or process holds the lock
    /// past `busy_timeout`), as it is otherwise.
    static func classified(_ error: any Error) -> any Error {
        guard let error = error as? SQLiteError else { return error }
        switch error.reason {
        case .busy, .locked, .busyTimeout, .busyInRecovery, .busyInSnapshot, .lockedBySharedCache, .lockedVirtualTable:
            return StoreError("busy: \(error.message)", transient: true)
        default:
            return error
        }
    }

    /// Values per call of `SQLiteSchema.upsertSessions`.
    private static let sessionBindCount = 17

    private static func sessionBinds(_ record: CallRecord) -> [SQLiteData] {
        let latency = record.latencyMS ?? 0
        return [
            .optionalText(record.sessionID), .integer(Int(record.timestampMicros)),
            .integer(Int(record.endedAtMicros)), .float(latency),
            .integer(record.tokensIn ?? 0),
            .integer(record.tokensOut ?? 0), .float(record.blocked ? 0 : record.costUSD ?? 0),
            .integer(record.isError ? 1 : 0), .integer(record.blocked ? 1 : 0), .optionalText(record.modelID),
            .optionalText(record.agentName), .optionalText(record.userID), .optionalText(record.environment),
            .optionalText(record.appID), .optionalText(record.source), .optionalText(record.source),
            .integer(record.isUnpriced ? 1 : 0),
        ]
    }

    package func checkReady() async throws {
        let latest = SQLiteSchema.latestVersion
        let applied = try await reader.query("SELECT max(version) AS v FROM schema_migrations").first?.column("v")?.integer ?? 0
        guard applied >= latest else { throw StoreError("migrations pending: at \(applied), need \(latest)") }
        // A newer collector migrated the store past what this one knows: its writes could fail in ways it would take
        // for bad records, so it stands aside (transient: batches stay with their sidecars for an upgraded collector).
        guard applied <= latest else {
            throw StoreError(
                "the store is at migration \(applied), newer than this collector's \(latest): upgrade this collector",
                transient: true)
        }
    }

    /// Hands back what SQLite holds beyond its data (page caches, statement memory): once a load has passed (`up`).
    package func releaseMemory() async {
        for connection in connections { _ = try? await connection.query("PRAGMA shrink_memory") }
    }

    package func close() async throws {
        for connection in connections.reversed() { try await connection.close() }
        try await storageThread?.shutdown()
    }
}
