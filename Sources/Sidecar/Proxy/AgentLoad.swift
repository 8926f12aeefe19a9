import LedgerProtocolNIO
import Synchronization

/// What every agent connection of one proxy holds at once, shared across event loops: the number of open
/// connections (against `ProxyConfiguration.maxConnections`) and the bytes of request bodies buffered in memory
/// (against `ProxyConfiguration.maxBufferedBodyBytes`). Both are gauges in the sidecar's metrics.
package final class AgentLoad: Sendable {
    let maxConnections: Int
    let maxBufferedBytes: Int
    private let connections = Atomic<Int>(0)
    private let buffered = Atomic<Int>(0)

    init(maxConnections: Int, maxBufferedBytes: Int) {
        self.maxConnections = maxConnections
        self.maxBufferedBytes = maxBufferedBytes
    }

    /// Agent connections open now.
    package var openConnections: Int { connections.load(ordering: .relaxed) }
    /// Bytes of request bodies held in memory now.
    package var bufferedBytes: Int { buffered.load(ordering: .relaxed) }

    /// Counts a new connection; false (and nothing counted) when `maxConnections` are open already.
    func admitConnection() -> Bool {
        connections.reserve(1, limit: maxConnections)
    }

    func connectionClosed() {
        connections.subtract(1, ordering: .relaxed)
    }

    /// Takes `bytes` from the body budget; false (and nothing taken) when that would pass `maxBufferedBytes`.
    func reserveBody(_ bytes: Int) -> Bool {
        bytes >= 0 && buffered.reserve(bytes, limit: maxBufferedBytes)
    }

    /// Gives back bytes taken by `reserveBody`.
    func releaseBody(_ bytes: Int) {
        guard bytes > 0 else { return }
        buffered.subtract(bytes, ordering: .relaxed)
    }
}
