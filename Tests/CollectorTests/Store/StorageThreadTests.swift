import CThreadTuning
import Foundation
import LedgerProtocol
import LedgerTestSupport
import SQLiteNIO
import Synchronization
import Testing

@testable import Collector

/// `up`'s store works on a thread of its own below the proxy's priority (issue 20): the writer's statements and the
/// pipeline's commits run there, a backlog moves them to the catch-up thread at the proxy's priority, and closing the
/// store stops both.
@Suite struct StorageThreadTests {
    @Test func workOnTheThreadRunsAtItsPriority() async throws {
        let thread = StorageThread(priority: .nice(7))
        let (nice, policy) = await withTaskExecutorPreference(thread) {
            (agentledger_thread_nice(), agentledger_thread_policy())
        }
        #expect(nice == 7)
        #expect(policy == 0)  // SCHED_OTHER
        try await thread.shutdown()

        let idle = StorageThread(priority: .idle)
        #expect(await withTaskExecutorPreference(idle) { agentledger_thread_policy() } == 5)  // SCHED_IDLE
        try await idle.shutdown()
    }

    @Test func theWritersStatementsAndTheCommitsRunOnTheStoresThread() async throws {
        try await withSQLiteStore(priority: .nice(5)) { store in
            // A query runs its function on the thread that steps the statement.
            let function = SQLiteCustomFunction("thread_nice", argumentCount: 0, pure: false) { _ in
                Int(agentledger_thread_nice())
            }
            try await store.writer.install(customFunction: function)
            let rows = try await store.writer.query("SELECT thread_nice() AS nice")
            #expect(rows.first?.column("nice")?.integer == 5)

            let seen = Mutex<[Int32]>([])
            let observed = RefusingStore(
                base: store, refused: "never-refused",
                onInsert: { seen.withLock { $0.append(agentledger_thread_nice()) } })
            var pipeline = IngestPipeline(normalizer: Normalizer(), store: observed, counters: CollectorCounters())
            pipeline.storageThread = store.storageThread
            let call = CapturedCall(
                actionID: "on-the-thread", arrivedAtMicros: WallClock.nowMicros(), method: "POST",
                path: "/v1/chat/completions", source: "pod-a", metadata: CallMetadata(sessionID: "s1"), statusCode: 200,
                completedMicros: 1_000)
            let result = try await pipeline.commit([call])
            #expect(result.stored == 1)
            #expect(seen.withLock { $0 } == [5])
            #expect(try await store.call(actionID: "on-the-thread") != nil)
        }
    }

    @Test func aBacklogMovesTheWorkToTheCatchUpThreadUntilItIsCaughtUp() async throws {
        let thread = StorageThread(priority: .nice(9))
        let nice = { await withTaskExecutorPreference(thread) { agentledger_thread_nice() } }
        #expect(await nice() == 9)
        #expect(thread.note(lagMicros: StorageThread.fallBehindMicros + 1))
        #expect(thread.isCatchingUp)
        #expect(await nice() == 0)
        // Between the two bounds it stays where it is, either way.
        thread.note(lagMicros: StorageThread.caughtUpMicros + 1)
        #expect(thread.isCatchingUp)
        thread.note(lagMicros: StorageThread.caughtUpMicros - 1)
        #expect(!thread.isCatchingUp)
        #expect(await nice() == 9)
        thread.note(lagMicros: StorageThread.caughtUpMicros + 1)
        #expect(!thread.isCatchingUp)
        // Counted once each time it falls behind (`agentledger_store_catch_ups_total`), not while it stays behind.
        #expect(thread.note(lagMicros: .max))
        #expect(!thread.note(lagMicros: .max))
        try await thread.shutdown()
    }

    @Test func aBatchOfOldCallsIsStoredOnTheCatchUpWriter() async throws {
        try await withSQLiteStore(priority: .nice(6)) { store in
            let thread = try #require(store.storageThread)
            let function = SQLiteCustomFunction("thread_nice", argumentCount: 0, pure: false) { _ in
                Int(agentledger_thread_nice())
            }
            try await store.writer.install(customFunction: function)
            try await store.catchUpWriter.install(customFunction: function)
            #expect(store.catchUpWriter !== store.writer)

            let seen = Mutex<[Int32]>([])
            let observed = RefusingStore(
                base: store, refused: "never-refused",
                onInsert: { seen.withLock { $0.append(agentledger_thread_nice()) } })
            var pipeline = IngestPipeline(normalizer: Normalizer(), store: observed, counters: CollectorCounters())
            pipeline.storageThread = thread
            func call(_ id: String, endedSecondsAgo seconds: Int64) -> CapturedCall {
                CapturedCall(
                    actionID: id, arrivedAtMicros: WallClock.nowMicros() - seconds * 1_000_000 - 2_000, method: "POST",
                    path: "/v1/chat/completions", source: "pod-a", metadata: CallMetadata(sessionID: "s1"),
                    statusCode: 200, completedMicros: 2_000)
            }
            // Calls that ended five seconds ago are a backlog: stored at the proxy's priority, on the catch-up writer.
            #expect(try await pipeline.commit([call("fresh", endedSecondsAgo: 0), call("old", endedSecondsAgo: 5)]).stored == 2)
            #expect(thread.isCatchingUp)
            let rows = try await store.currentWriter.query("SELECT thread_nice() AS nice")
            #expect(rows.first?.column("nice")?.integer == 0)
            // Fresh calls again: back to the background.
            #expect(try await pipeline.commit([call("new", endedSecondsAgo: 0)]).stored == 1)
            #expect(!thread.isCatchingUp)
            #expect(seen.withLock { $0 } == [0, 6])
            for id in ["fresh", "old", "new"] { #expect(try await store.call(actionID: id) != nil) }
        }
    }

    @Test func workAfterTheStoreClosedStillRuns() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let thread = StorageThread(priority: .nice(3))
        let store = try await SQLiteStore.open(path: directory + "/test.db", storageThread: thread, logger: Integration.logger)
        try await store.migrate()
        try await store.close()
        // The thread has stopped: a task that still prefers it runs where it is instead of waiting forever.
        let nice = await withTaskExecutorPreference(thread) { agentledger_thread_nice() }
        #expect(nice != 3)
    }

    private func withSQLiteStore(
        priority: StorageThread.Priority, _ body: (SQLiteStore) async throws -> Void
    ) async throws {
        try await StoreKind.sqlite.withStore(storagePriority: priority) { store in
            try await body(try #require(store as? SQLiteStore))
        }
    }

    private static func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("agentledger-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}
