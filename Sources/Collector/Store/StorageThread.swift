import CThreadTuning
import NIOPosix
import Synchronization

/// Where the SQLite store's work runs: the writer's statements, and (as a task executor) the pipeline that turns
/// captured calls into rows. In `up` the proxy shares its core with this work, and the agent's tail is set by who gets
/// the core when a call arrives (docs/benchmarks.md, issue 20). So the work has two threads:
///
/// - **background**, `SCHED_IDLE` in `up`, while storage keeps up: any other thread that wakes takes the core from it
///   at once, so a commit never keeps an agent's call waiting;
/// - **catch-up**, at the proxy's own priority, once the calls being stored ended more than `fallBehindMicros` ago:
///   storage then shares the core evenly, so a sustained overload slows the answers instead of growing the backlog
///   without end. It goes back to the background once it is within `caughtUpMicros`.
///
/// An idle thread on a saturated core still gets a sliver of it (the kernel weighs it 3 against a normal thread's
/// 1,024), so a transaction it had started finishes, slowly, and the catch-up thread then holds the write lock.
/// Raising a thread's priority back needs `CAP_SYS_NICE`, which containers rarely have, hence a second thread rather
/// than a priority change.
package final class StorageThread: TaskExecutor {
    /// How the background thread stands against the proxy's threads.
    package enum Priority: Sendable, Equatable {
        /// As every other thread (tests; or a store with nothing latency-bound beside it).
        case normal
        /// A nice value above the process's (1…19): a smaller share of a busy core.
        case nice(Int32)
        /// `SCHED_IDLE`: only when nothing else wants the core.
        case idle
    }

    /// Calls that ended longer ago than this are a backlog: the catch-up thread takes the work.
    package static let fallBehindMicros: Int64 = 1_000_000
    /// Within this of the present again, the background thread takes the work back.
    package static let caughtUpMicros: Int64 = 250_000

    /// Runs while storage keeps up.
    package let background: NIOThreadPool
    /// Runs while storage is behind.
    package let catchUp: NIOThreadPool
    private let behind = Atomic<Bool>(false)

    package init(priority: Priority) {
        background = NIOThreadPool(numberOfThreads: 1)
        catchUp = NIOThreadPool(numberOfThreads: 1)
        background.start()
        catchUp.start()
        // Threads inherit their creator's scheduling: both take the kernel's default slice, never the proxy's short one.
        catchUp.submit { _ in _ = agentledger_thread_request_slice(0) }
        background.submit { _ in
            _ = agentledger_thread_request_slice(0)
            switch priority {
            case .normal: break
            case .nice(let value): _ = agentledger_thread_set_nice(value)
            case .idle: _ = agentledger_thread_set_idle()
            }
        }
    }

    /// True while storage is behind: work goes to the catch-up thread.
    package var isCatchingUp: Bool { behind.load(ordering: .relaxed) }

    /// Notes how long ago the oldest call about to be stored ended, before its commit starts; true when storage has
    /// just fallen behind.
    @discardableResult
    package func note(lagMicros: Int64) -> Bool {
        if lagMicros > Self.fallBehindMicros {
            return !behind.exchange(true, ordering: .relaxed)
        }
        if lagMicros < Self.caughtUpMicros { behind.store(false, ordering: .relaxed) }
        return false
    }

    package func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        // A pool that has stopped calls this at once, on the caller's thread: the job still runs, so no task hangs.
        (isCatchingUp ? catchUp : background).submit { _ in job.runSynchronously(on: executor) }
    }

    /// Stops both threads once the work already submitted has run.
    package func shutdown() async throws {
        try await background.shutdownGracefully()
        try await catchUp.shutdownGracefully()
    }
}
