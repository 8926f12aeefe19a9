import Foundation
import LedgerTestSupport
import PostgresNIO
import SQLiteNIO
import Testing

@testable import Collector

extension StoreTests {
    /// What a 50-turn conversation costs on disk: the layout of schema version 2 (each call's whole `messages` array
    /// and a search document of its whole history) against messages stored once. `Benchmarks/storage.sh` runs it with
    /// `AGENTLEDGER_STORAGE_REPORT` naming a file to append the figures to.
    @Suite struct StorageGrowth {
        /// Bytes after the first half of the calls and after all of them.
        struct Sizes {
            var half: Int
            var full: Int
        }

        static let calls: [CallRecord] = {
            var conversation = Conversation(turns: 50)
            return conversation.calls()
        }()

        @Test(arguments: StoreKind.testable)
        func storageGrowsWithWhatIsNewInEachCall(kind: StoreKind) async throws {
            let naive: Sizes
            let stored: Sizes
            switch kind {
            case .sqlite:
                naive = try await Self.sqliteNaive()
                stored = try await Self.sqliteStored()
            case .postgres:
                naive = try await Self.postgresNaive()
                stored = try await Self.postgresStored()
            }
            let half = Self.calls.count / 2
            let payload = Self.calls.reduce(0) { $0 + JSONText.encode($1.messages).utf8.count } / Self.calls.count
            let line =
                "\(kind.rawValue) \(Self.calls.count) \(payload) \(naive.full / Self.calls.count) \(stored.full / Self.calls.count)"
                + " \((naive.full - naive.half) / half) \((stored.full - stored.half) / half)"
            if let report = ProcessInfo.processInfo.environment["AGENTLEDGER_STORAGE_REPORT"] {
                let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: report))
                try handle.seekToEnd()
                try handle.write(contentsOf: Data((line + "\n").utf8))
                try handle.close()
            }
            // Stored whole, a call costs its whole history again (Postgres compresses it some); stored once, a call
            // costs its new messages and 32 bytes per message it resends.
            #expect(stored.full * 2 < naive.full, "\(line)")
            #expect((stored.full - stored.half) * 3 < naive.full - naive.half, "\(line)")
        }

        // MARK: SQLite

        private static func withSQLiteFile(_ body: (String) async throws -> Void) async throws {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("agentledger-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            try await body(directory.appendingPathComponent("size.db").path)
        }

        /// Pages in use (not free) times the page size.
        private static func sqliteBytes(_ connection: SQLiteConnection) async throws -> Int {
            func pragma(_ name: String) async throws -> Int {
                try await connection.query("PRAGMA \(name)").first?.columns.first?.data.integer ?? 0
            }
            return try await (pragma("page_count") - pragma("freelist_count")) * pragma("page_size")
        }

        /// Schema version 2 and its insert: the whole `messages` array per row, the whole history indexed.
        private static func sqliteNaive() async throws -> Sizes {
            var sizes = Sizes(half: 0, full: 0)
            try await withSQLiteFile { path in
                let connection = try await SQLiteConnection.open(storage: .file(path: path), logger: Integration.logger)
                _ = try await connection.query("PRAGMA journal_mode = WAL")
                for statement in SQLiteSchema.migrations.prefix(2).flatMap(\.statements) {
                    _ = try await connection.query(statement)
                }
                let columns = CallRecord.columns.map { $0 == "message_hashes" ? "messages" : $0 }
                let insert =
                    "INSERT INTO calls (\(columns.joined(separator: ", "))) VALUES ("
                    + columns.map { _ in "?" }.joined(separator: ", ") + ") RETURNING rowid"
                let messagesColumn = try #require(columns.firstIndex(of: "messages"))
                for (index, call) in calls.enumerated() {
                    var binds = call.sqliteBinds(messageHashes: [])
                    binds[messagesColumn] = .text(JSONText.encode(call.messages))
                    let rowid = try #require(try await connection.query(insert, binds).first?.column("rowid")?.integer)
                    _ = try await connection.query(
                        "INSERT INTO calls_search (rowid, document) VALUES (?, ?)",
                        [.integer(rowid), .text(SearchText.document(for: call))])
                    if index + 1 == calls.count / 2 { sizes.half = try await sqliteBytes(connection) }
                }
                sizes.full = try await sqliteBytes(connection)
                try await connection.close()
            }
            return sizes
        }

        private static func sqliteStored() async throws -> Sizes {
            var sizes = Sizes(half: 0, full: 0)
            try await withSQLiteFile { path in
                let store = try await SQLiteStore.open(path: path, logger: Integration.logger)
                try await store.migrate()
                for (index, call) in calls.enumerated() {
                    _ = try await store.insert([call])
                    if index + 1 == calls.count / 2 { sizes.half = try await sqliteBytes(store.reader) }
                }
                sizes.full = try await sqliteBytes(store.reader)
                #expect(try await store.calls(inSession: calls[0].sessionID ?? "") == calls)
                try await store.close()
            }
            return sizes
        }

        // MARK: Postgres

        private static let relations = ["calls", "messages"]

        /// `pg_total_relation_size` (heap, TOAST and indexes) of the calls and messages tables, vacuumed first as
        /// autovacuum would (which also moves the search index's pending entries into the index proper).
        private static func postgresBytes(_ store: PostgresStore) async throws -> Int {
            let sql = relations.map { "coalesce(pg_total_relation_size(to_regclass('\($0)')), 0)" }.joined(separator: " + ")
            return try await store.bounded("size") { client in
                try await client.query(PostgresQuery(unsafeSQL: "VACUUM"))
                return try await client.query(PostgresQuery(unsafeSQL: "SELECT (\(sql))::bigint")).decode(Int.self)
                    .first { _ in true } ?? 0
            }
        }

        /// Schema version 2 and the columns the conversation fills, with the search words of the whole history.
        private static func postgresNaive() async throws -> Sizes {
            var sizes = Sizes(half: 0, full: 0)
            try await PostgresTestCluster.withDatabase { dsn in
                let setup = [PostgresSchema.createMigrationsTable] + PostgresSchema.migrations.prefix(2).flatMap(\.statements)
                try await PostgresTestCluster.psql(dsn, setup.joined(separator: ";\n"))
                try await PostgresTestCluster.withRunningStore(dsn: dsn) { store in
                    for (index, call) in calls.enumerated() {
                        let insert: PostgresQuery = """
                            INSERT INTO calls (action_id, session_id, ts_micros, model_id, provider, messages, tools, content,
                                tokens_in, tokens_out, cost_usd, latency_ms, stream, status_code, blocked, agent_name, outcome,
                                search)
                            VALUES (\(call.actionID), \(call.sessionID), \(call.timestampMicros), \(call.modelID),
                                \(call.provider), \(JSONText.encode(call.messages))::jsonb,
                                \(call.tools.map(JSONText.encode))::jsonb, \(call.content), \(call.tokensIn), \(call.tokensOut),
                                \(call.costUSD), \(call.latencyMS), \(call.stream), \(call.statusCode), \(call.blocked),
                                \(call.agentName), \(call.outcome), to_tsvector('simple', \(SearchText.document(for: call))))
                            """
                        _ = try await store.bounded("naive insert") { client in try await client.query(insert) }
                        if index + 1 == calls.count / 2 { sizes.half = try await postgresBytes(store) }
                    }
                    sizes.full = try await postgresBytes(store)
                }
            }
            return sizes
        }

        private static func postgresStored() async throws -> Sizes {
            var sizes = Sizes(half: 0, full: 0)
            try await PostgresTestCluster.withDatabase { dsn in
                try await PostgresTestCluster.withRunningStore(dsn: dsn) { store in
                    try await store.migrate()
                    let empty = try await postgresBytes(store)
                    for (index, call) in calls.enumerated() {
                        _ = try await store.insert([call])
                        if index + 1 == calls.count / 2 { sizes.half = try await postgresBytes(store) - empty }
                    }
                    sizes.full = try await postgresBytes(store) - empty
                    #expect(try await store.calls(inSession: calls[0].sessionID ?? "") == calls)
                }
            }
            return sizes
        }
    }
}
