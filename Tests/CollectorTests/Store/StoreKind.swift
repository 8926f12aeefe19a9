import Foundation
import LedgerTestSupport
import Testing

@testable import Collector

/// The stores the contract tests run against; each test gets a fresh, migrated one.
enum StoreKind: String, CaseIterable, CustomTestStringConvertible {
    case sqlite
    case postgres

    var testDescription: String { rawValue }

    /// The kinds this run can test: Postgres only with `AGENTLEDGER_TEST_POSTGRES_DSN` set. Without it the
    /// `StoreTests.Postgres` suite reports the skip, with the reason.
    static var testable: [StoreKind] { PostgresTestCluster.isConfigured ? allCases : [.sqlite] }

    /// Runs `body` with a new store of this kind (a temp SQLite file, or a new database on the test cluster),
    /// running and migrated, and removes it afterwards.
    /// `storagePriority`: the SQLite store's background thread (`StorageThread`).
    func withStore(
        postgresOptions: PostgresStore.Options = PostgresStore.Options(),
        storagePriority: StorageThread.Priority = .normal, _ body: (any Store) async throws -> Void
    ) async throws {
        switch self {
        case .sqlite:
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("agentledger-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            // On storage threads of its own, as `up` and the collector open it.
            let store = try await SQLiteStore.open(
                path: directory.appendingPathComponent("test.db").path,
                storageThread: StorageThread(priority: storagePriority), logger: Integration.logger)
            try await store.migrate()
            do {
                try await body(store)
            } catch {
                try? await store.close()
                throw error
            }
            try await store.close()
        case .postgres:
            try await PostgresTestCluster.withDatabase { dsn in
                try await PostgresTestCluster.withRunningStore(dsn: dsn, options: postgresOptions) { store in
                    try await store.migrate()
                    try await body(store)
                }
            }
        }
    }
}
