import Foundation
import LedgerTestSupport
import Testing

@testable import Collector

/// The throwaway Postgres cluster `scripts/test` starts: its address, a fresh database per test, and stopping and
/// starting the server for the failure tests.
///
/// `AGENTLEDGER_TEST_POSTGRES_DSN` names a database the tests may create other databases from;
/// `AGENTLEDGER_TEST_PG_CTL` and `AGENTLEDGER_TEST_PGDATA` let a test stop and start the server.
enum PostgresTestCluster {
    private static let environment = ProcessInfo.processInfo.environment

    static let dsn = environment["AGENTLEDGER_TEST_POSTGRES_DSN"].flatMap { $0.isEmpty ? nil : $0 }
    static var isConfigured: Bool { dsn != nil }
    static let notConfigured: Comment =
        "AGENTLEDGER_TEST_POSTGRES_DSN is unset, so the Postgres tests are skipped (scripts/test sets it)"

    private static let pgCtl = environment["AGENTLEDGER_TEST_PG_CTL"]
    private static let dataDirectory = environment["AGENTLEDGER_TEST_PGDATA"]
    static var canRestart: Bool { isConfigured && pgCtl != nil && dataDirectory != nil }

    /// Creates a database, runs `body` with its DSN, then drops it.
    static func withDatabase(_ body: (String) async throws -> Void) async throws {
        let admin = try #require(dsn)
        let name = "agentledger_t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        try await psql(admin, "CREATE DATABASE \(name)")
        var components = try #require(URLComponents(string: admin))
        components.path = "/" + name
        let database = try #require(components.string)
        do {
            try await body(database)
        } catch {
            try? await psql(admin, "DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
            throw error
        }
        try await psql(admin, "DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
    }

    /// Runs `body` with a store on `dsn` whose pool runs on a task for the duration.
    static func withRunningStore(
        dsn: String, options: PostgresStore.Options = PostgresStore.Options(), _ body: (PostgresStore) async throws -> Void
    ) async throws {
        let store = PostgresStore(dsn: try PostgresDSN(dsn), options: options, logger: Integration.logger)
        let pool = Task { try await store.run() }
        do {
            try await body(store)
        } catch {
            pool.cancel()
            _ = try? await pool.value
            throw error
        }
        pool.cancel()
        _ = try? await pool.value
    }

    /// Runs one SQL statement with `psql` (from the cluster's bin directory when known).
    static func psql(_ dsn: String, _ sql: String) async throws {
        let directory = pgCtl.map { URL(fileURLWithPath: $0).deletingLastPathComponent().path }
        let local = directory.map { $0 + "/psql" }
        if let local, FileManager.default.isExecutableFile(atPath: local) {
            try await run(local, ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", dsn, "-c", sql])
        } else {
            try await run("/usr/bin/env", ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", dsn, "-c", sql])
        }
    }

    /// Stops the server (fast mode: open connections are closed) and waits until it is down.
    static func stopServer() async throws {
        try await pgCtl(["stop", "-m", "fast", "-w"])
    }

    /// Starts the server again with the same settings and waits until it accepts connections.
    static func startServer() async throws {
        let log = URL(fileURLWithPath: try #require(dataDirectory)).deletingLastPathComponent().appendingPathComponent(
            "server.log")
        try await pgCtl(["start", "-w", "-l", log.path])
    }

    private static func pgCtl(_ arguments: [String]) async throws {
        let pgCtl = try #require(pgCtl)
        let arguments = [pgCtl, "-D", try #require(dataDirectory)] + arguments
        // Postgres refuses to run as root; scripts/test gives the cluster to the `postgres` user then.
        if geteuid() == 0 {
            try await run("/usr/sbin/runuser", ["-u", "postgres", "--"] + arguments)
        } else {
            try await run(arguments[0], Array(arguments.dropFirst()))
        }
    }

    /// Runs a tool to completion without blocking a thread. Not `Process`: on Linux it learns of the exit through a
    /// descriptor the child inherits, which the server `pg_ctl start` leaves behind keeps open for its whole life.
    private static func run(_ executable: String, _ arguments: [String]) async throws {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("agentledger-tool-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: output) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output.path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        guard spawned == 0 else { throw StoreError("cannot run \(executable): errno \(spawned)") }
        var status: Int32 = 0
        while true {
            let reaped = waitpid(pid, &status, WNOHANG)
            if reaped == pid || (reaped == -1 && errno != EINTR) { break }
            try? await Task.sleep(for: .milliseconds(20))
        }
        guard status != 0 else { return }
        let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        throw StoreError("\(executable) \(arguments.joined(separator: " ")) failed (wait status \(status)): \(text)")
    }
}
