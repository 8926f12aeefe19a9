import Testing

@testable import Collector

/// The SQLite store acknowledges only durable commits (issue 14 item 11): `synchronous = FULL` on every connection.
@Suite struct SQLiteDurabilityTests {
    @Test func everyConnectionSynchronizesFully() async throws {
        try await StoreKind.sqlite.withStore { store in
            let sqlite = try #require(store as? SQLiteStore)
            for connection in [sqlite.writer, sqlite.reader] {
                let rows = try await connection.query("PRAGMA synchronous")
                // 2 is FULL (0 OFF, 1 NORMAL, 3 EXTRA).
                #expect(rows.first?.column("synchronous")?.integer == 2)
            }
            let mode = try await sqlite.writer.query("PRAGMA journal_mode")
            #expect(mode.first?.column("journal_mode")?.string == "wal")
        }
    }
}
