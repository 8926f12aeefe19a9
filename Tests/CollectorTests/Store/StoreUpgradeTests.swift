import Foundation
import LedgerProtocol
import LedgerTestSupport
import PostgresNIO
import SQLiteNIO
import Testing

@testable import Collector

extension StoreTests {
    /// A database written at schema version 1 keeps working after the later migrations: its calls are found by
    /// search and its sessions by app, and read back with their messages, now stored apart.
    @Suite struct Upgrade {
        static let message =
            #"[{"role":"user","content":"Grüße aus Zürich","n":1.5},"a bare string",{"content":"x","role":"user"}]"#

        @Test func sqliteFromVersion1() async throws {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("agentledger-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let path = directory.appendingPathComponent("old.db").path
            let old = try await SQLiteConnection.open(storage: .file(path: path), logger: Integration.logger)
            _ = try await old.query(
                "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)")
            for statement in SQLiteSchema.migrations[0].statements { _ = try await old.query(statement) }
            _ = try await old.query("INSERT INTO schema_migrations VALUES (1, 'calls and session aggregates', 0)")
            _ = try await old.query(
                """
                INSERT INTO calls (action_id, session_id, ts_micros, messages, content, stream, blocked, app_id, outcome,
                    source)
                VALUES ('old', 's', 1, ?, 'done', 0, 0, 'app1', 'completed', 'vm-old')
                """, [.text(Self.message)])
            _ = try await old.query(
                """
                INSERT INTO sessions VALUES ('s', 1, 1, 2, 1, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL)
                """)
            try await old.close()

            let store = try await SQLiteStore.open(path: path, logger: Integration.logger)
            do {
                try await Self.expectUpgraded(store)
            } catch {
                try? await store.close()
                throw error
            }
            try await store.close()
        }

        @Test(.enabled(if: PostgresTestCluster.isConfigured, PostgresTestCluster.notConfigured))
        func postgresFromVersion1() async throws {
            try await PostgresTestCluster.withDatabase { dsn in
                let setup =
                    [PostgresSchema.createMigrationsTable] + PostgresSchema.migrations[0].statements + [
                        "INSERT INTO schema_migrations (version, name) VALUES (1, 'calls and session aggregates')",
                        """
                        INSERT INTO calls (action_id, session_id, ts_micros, messages, content, stream, blocked, app_id, outcome,
                            source)
                        VALUES ('old', 's', 1, '\(Self.message)', 'done', false, false, 'app1', 'completed', 'vm-old')
                        """,
                        "INSERT INTO sessions VALUES ('s', 1, 1, 2, 1, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL)",
                    ]
                try await PostgresTestCluster.psql(dsn, setup.joined(separator: ";\n"))
                try await PostgresTestCluster.withRunningStore(dsn: dsn) { store in try await Self.expectUpgraded(store) }
            }
        }

        /// A store a newer collector migrated further is not ready for this one, and says so as a transient failure,
        /// so batches stay with their sidecars instead of being taken for bad records.
        @Test(arguments: StoreKind.testable)
        func aStoreMigratedByANewerCollectorIsNotReady(kind: StoreKind) async throws {
            try await kind.withStore { store in
                let newer = "INSERT INTO schema_migrations (version, name) VALUES (1000, 'from the future')"
                if let sqlite = store as? SQLiteStore {
                    _ = try await sqlite.writer.query(
                        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (1000, 'from the future', 0)")
                } else if let postgres = store as? PostgresStore {
                    _ = try await postgres.client.query(PostgresQuery(unsafeSQL: newer))
                }
                do {
                    try await store.checkReady()
                    Issue.record("a store at migration 1000 was ready")
                } catch {
                    #expect(StoreError.isTransient(error))
                    #expect("\(error)".contains("newer than this collector"))
                }
            }
        }

        static func expectUpgraded(_ store: any Store) async throws {
            await #expect(throws: StoreError.self) { try await store.checkReady() }
            try await store.migrate()
            try await store.checkReady()
            let messages = try JSONText.decode([JSONValue].self, message)
            #expect(try await store.call(actionID: "old")?.messages == messages)
            #expect(try await store.search(SearchQuery(text: "Zürich")).map(\.actionID) == ["old"])
            #expect(try await store.search(SearchQuery(text: "done")).map(\.actionID) == ["old"])
            var query = SessionQuery()
            query.appID = "app1"
            #expect(try await store.sessions(query).sessions.map(\.sessionID) == ["s"])
            #expect(try await store.sessions(query).sessions.first?.sources == ["vm-old"])
            var new = CallRecord.stored("new", session: "s", at: 5)
            new.source = "vm-new"
            _ = try await store.insert([new])
            #expect(try await store.sessions(query).sessions.first?.callCount == 2)
            #expect(try await store.sessions(query).sessions.first?.sources == ["vm-old", "vm-new"])
            // The old call is known by its id (a replay is not stored again), and retention deletes it like any other.
            #expect(try await store.insert([.stored("old", session: "s", at: 1)]).stored == 0)
            let now = WallClock.nowMicros()
            _ = try await store.insert([.stored("today", session: "t", at: now)])
            let result = try await store.maintain(nowMicros: now, retention: Retention(keepMicros: Retention.dayMicros))
            #expect(result.callsDeleted == 2)
            #expect(result.sessionsDeleted == 1)
            #expect(try await store.call(actionID: "old") == nil)
            #expect(try await store.call(actionID: "today")?.messages == CallRecord.stored("today", at: now).messages)
        }
    }
}
