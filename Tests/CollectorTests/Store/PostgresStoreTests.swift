import Foundation
import LedgerTestSupport
import Testing

@testable import Collector

extension StoreTests {
    /// What only Postgres has to show: big batches, NUL characters, concurrent migrations, a server that goes away.
    @Suite(.enabled(if: PostgresTestCluster.isConfigured, PostgresTestCluster.notConfigured))
    struct Postgres {
        @Test func aThousandRecordsInsertAsOneBatchAndReplayAsDuplicates() async throws {
            try await StoreKind.postgres.withStore { store in
                let records = (0..<1000).map { index in
                    CallRecord.stored(
                        "bulk-\(index)", session: "bulk-\(index % 10)", at: Int64(1_000_000 + index), cost: 0.001)
                }
                #expect(
                    try await store.insert(records) == InsertResult(newActionIDs: Set(records.map(\.actionID)), duplicates: 0))
                #expect(try await store.insert(records) == InsertResult(newActionIDs: [], duplicates: 1000))
                let page = try await store.sessions(SessionQuery(limit: 100))
                #expect(page.total == 10)
                #expect(page.sessions.map(\.callCount) == Array(repeating: 100, count: 10))
                #expect(page.sessions.first?.sessionID == "bulk-9")
                let calls = try await store.calls(inSession: "bulk-3")
                #expect(calls.count == 100)
                #expect(calls.first == records[3])
            }
        }

        @Test func nulCharactersAreStoredAsReplacementCharacters() async throws {
            try await StoreKind.postgres.withStore { store in
                var record = CallRecord.stored("nul", at: 1)
                record.content = "a\u{0}b"
                record.messages = [.object(["content": .string("x\u{0}y"), "k\u{0}": .string(#"\u0000 stays"#)])]
                record.toolCalls = [ToolCall(id: "c", name: "f", arguments: "{\"q\":\"\u{0}\"}")]
                #expect(try await store.insert([record]).stored == 1)
                let loaded = try #require(try await store.call(actionID: "nul"))
                #expect(loaded.content == "a\u{FFFD}b")
                #expect(
                    loaded.messages == [.object(["content": .string("x\u{FFFD}y"), "k\u{FFFD}": .string(#"\u0000 stays"#)])])
                #expect(loaded.toolCalls?.first?.arguments == "{\"q\":\"\u{FFFD}\"}")
            }
        }

        @Test func collectorsStartingTogetherMigrateOnce() async throws {
            try await PostgresTestCluster.withDatabase { dsn in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for _ in 0..<4 {
                        group.addTask {
                            try await PostgresStore(dsn: try PostgresDSN(dsn), logger: Integration.logger).migrate()
                        }
                    }
                    try await group.waitForAll()
                }
                try await PostgresTestCluster.withRunningStore(dsn: dsn) { store in
                    try await store.checkReady()
                    #expect(try await store.insert([.stored("a", at: 1)]).stored == 1)
                }
            }
        }

        @Test func anUnmigratedDatabaseIsNotReady() async throws {
            try await PostgresTestCluster.withDatabase { dsn in
                try await PostgresTestCluster.withRunningStore(dsn: dsn) { store in
                    await #expect(throws: StoreError.self) { try await store.checkReady() }
                }
            }
        }

        @Test func anUnreachableServerFailsMigrateAtOnceWithTheReason() async throws {
            let port = try await Integration.closedPort()
            let store = PostgresStore(
                dsn: try PostgresDSN("postgres://agent:secret@127.0.0.1:\(port)/db"), logger: Integration.logger)
            let error = try await #require(throws: StoreError.self) {
                try await Integration.within(.seconds(5), "migrate to fail") { try await store.migrate() }
            }
            #expect(error.message.contains("cannot connect to postgres://agent:***@127.0.0.1:\(port)/db"))
            #expect(!error.message.contains("secret"))
        }

        @Test(.enabled(if: PostgresTestCluster.canRestart, "AGENTLEDGER_TEST_PG_CTL and AGENTLEDGER_TEST_PGDATA are unset"))
        func insertFailsWhileTheServerIsDownAndWorksOnceItIsBack() async throws {
            var options = PostgresStore.Options()
            options.operationTimeout = .seconds(3)
            try await StoreKind.postgres.withStore(postgresOptions: options) { store in
                #expect(try await store.insert([.stored("before", at: 1)]).stored == 1)
                try await PostgresTestCluster.stopServer()
                await #expect(throws: StoreError.self) { try await store.insert([.stored("during", at: 2)]) }
                await #expect(throws: StoreError.self) { try await store.checkReady() }
                try await PostgresTestCluster.startServer()
                let recovered = await Integration.eventually(within: .seconds(30), every: .milliseconds(200)) {
                    (try? await store.insert([.stored("during", at: 2)])) != nil
                }
                #expect(recovered, "the pool reconnects once the server is back")
                #expect(try await store.calls(inSession: "s1").map(\.actionID) == ["before", "during"])
                try await store.checkReady()
            }
        }
    }
}
