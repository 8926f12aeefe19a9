import LedgerProtocol
import Synchronization

/// Takes captured calls from the proxy without ever blocking it, and hands batches to the collector link.
///
/// `ship` only takes a lock and appends; the link's sender task is woken through an `AsyncStream`.
package final class Shipper: Sendable {
    private struct Guarded: Sendable {
        var state: ShipperState
        var waker: AsyncStream<Void>.Continuation?
        var draining = false
        var linksEstablished = 0
    }

    private let guarded: Mutex<Guarded>
    private let clock = ContinuousClock()
    private let epoch: ContinuousClock.Instant
    package let counters = SidecarCounters()

    package init(limits: ShipperState.Limits = ShipperState.Limits()) {
        guarded = Mutex(Guarded(state: ShipperState(limits: limits)))
        epoch = clock.now
    }

    /// Nanoseconds on the shipper's monotonic clock.
    package var nowNanos: Int64 {
        let elapsed = clock.now - epoch
        return elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000
    }

    /// Queues a captured call for the collector. Never blocks on the network.
    package func ship(_ call: CapturedCall) {
        let now = nowNanos
        let (dropped, waker) = guarded.withLock { guarded in
            (guarded.state.enqueue(call, nowNanos: now), guarded.waker)
        }
        counters.add(.captured)
        if dropped > 0 { counters.add(.dropped, dropped) }
        waker?.yield()
    }

    /// A new connection: returns the stream that wakes its sender whenever there may be work.
    package func attach() -> AsyncStream<Void> {
        let (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let previous = guarded.withLock { guarded in
            defer { guarded.waker = continuation }
            return guarded.waker
        }
        previous?.finish()
        return stream
    }

    package func linkEstablished() {
        let waker = guarded.withLock { guarded in
            guarded.state.linkEstablished()
            guarded.linksEstablished += 1
            return guarded.waker
        }
        waker?.yield()
    }

    /// The connection ended: unacknowledged batches go back to the queue.
    package func linkLost() {
        let waker = guarded.withLock { guarded in
            guarded.state.linkLost()
            defer { guarded.waker = nil }
            return guarded.waker
        }
        waker?.finish()
    }

    package func next() -> ShipperState.NextStep {
        let now = nowNanos
        return guarded.withLock { $0.state.next(nowNanos: now) }
    }

    package func acknowledge(_ ack: Ack) {
        let (known, waker, finished) = guarded.withLock { guarded in
            let known = guarded.state.acknowledge(batchID: ack.batchID)
            return (known, guarded.waker, guarded.draining && guarded.state.isIdle)
        }
        if known { counters.add(.acknowledged, Int(ack.stored) + Int(ack.duplicates)) }
        if finished { waker?.finish() } else { waker?.yield() }
    }

    package func reject(batchID: UInt64) {
        guarded.withLock { $0.state.reject(batchID: batchID) }
    }

    /// Shutdown has begun: once the queue is empty and acknowledged, the link may close.
    package func beginDrain() {
        let (waker, idle) = guarded.withLock { guarded in
            guarded.draining = true
            return (guarded.waker, guarded.state.isIdle)
        }
        if idle { waker?.finish() } else { waker?.yield() }
    }

    /// How many links reached WELCOME since start.
    package var linksEstablished: Int { guarded.withLock { $0.linksEstablished } }
    package var isLinkReady: Bool { guarded.withLock { $0.state.linkReady } }
    package var isDraining: Bool { guarded.withLock { $0.draining } }
    package var isIdle: Bool { guarded.withLock { $0.state.isIdle } }
    package var queuedCalls: Int { guarded.withLock { $0.state.pendingCount } }
    package var queuedBytes: Int { guarded.withLock { $0.state.queuedBytes } }
}
