import CThreadTuning
import NIOCore
import NIOPosix

/// The event loops (the proxy's threads) of `up` ask the kernel for short time slices. On Linux 6.12 and later
/// (EEVDF), a thread that wakes with a shorter slice than the running one preempts it, so a call arriving while the
/// store's thread runs is served at once; `up` on one core measured +613 µs at p99 with them and +1,078 µs without
/// (docs/benchmarks.md, issue 20). Older kernels accept and ignore the request.
enum ProxyThreads {
    /// The shortest slice the kernel grants.
    static let sliceNanoseconds: UInt64 = 100_000

    /// Applies to every loop of the shared group; threads the loops create afterwards inherit the slice (the store's
    /// threads set theirs back, `StorageThread`).
    static func requestShortSlices() async {
        for loop in MultiThreadedEventLoopGroup.singleton.makeIterator() {
            _ = try? await loop.submit { agentledger_thread_request_slice(sliceNanoseconds) }.get()
        }
    }
}
