import DequeModule
import LedgerProtocol

/// Batching and acknowledgement bookkeeping of the shipper, free of I/O and clocks.
///
/// Calls wait in `pending` until a batch leaves; a batch stays in flight until its ACK. When the link
/// drops, every unacknowledged batch goes back to the front of the queue, in order, and is sent again:
/// delivery is at-least-once and the collector's store is idempotent on `action_id`.
package struct ShipperState: Sendable {
    /// How batches are cut.
    package struct Limits: Sendable {
        /// Most calls in one RECORDS frame.
        package var maxBatchCount = 256
        /// Most bytes (estimated) in one RECORDS frame.
        package var maxBatchBytes = 4 << 20
        /// Most unacknowledged batches on the link at once.
        package var maxInFlight = 4
        /// How long a lone call may wait for company before it is sent anyway, in nanoseconds.
        package var lingerNanos: Int64 = 2_000_000
        /// Bound of the in-memory queue; beyond it the oldest calls are dropped and counted.
        package var maxQueuedBytes = 64 << 20

        package init() {}
    }

    /// What the sender should do next.
    package enum NextStep: Equatable, Sendable {
        case send(Records)
        /// Nothing to send before this instant (nanoseconds on the caller's clock): a linger is running.
        case wait(untilNanos: Int64)
        /// Nothing to send at all (queue empty, window full or link not ready).
        case idle
    }

    private struct Entry: Sendable {
        var call: CapturedCall
        var bytes: Int
        var queuedAtNanos: Int64
    }

    package let limits: Limits
    private var pending = Deque<Entry>()
    private var inFlight: [(batchID: UInt64, entries: [Entry])] = []
    private var nextBatchID: UInt64 = 1
    package private(set) var queuedBytes = 0
    /// The link has said HELLO and got WELCOME.
    package private(set) var linkReady = false
    package private(set) var droppedCalls = 0
    package private(set) var acknowledgedCalls = 0

    package init(limits: Limits = Limits()) {
        self.limits = limits
    }

    package var pendingCount: Int { pending.count }
    package var inFlightCount: Int { inFlight.count }
    /// Nothing waits and nothing is unacknowledged.
    package var isIdle: Bool { pending.isEmpty && inFlight.isEmpty }

    /// Queues a call; returns how many of the oldest queued calls were dropped to stay within the bound.
    @discardableResult
    package mutating func enqueue(_ call: CapturedCall, nowNanos: Int64) -> Int {
        let bytes = Self.estimatedSize(of: call)
        pending.append(Entry(call: call, bytes: bytes, queuedAtNanos: nowNanos))
        queuedBytes += bytes
        var dropped = 0
        while queuedBytes > limits.maxQueuedBytes, pending.count > 1, let oldest = pending.popFirst() {
            queuedBytes -= oldest.bytes
            dropped += 1
        }
        droppedCalls += dropped
        return dropped
    }

    package mutating func linkEstablished() {
        linkReady = true
    }

    /// The link is gone: unacknowledged batches return to the front of the queue in their original order.
    package mutating func linkLost() {
        linkReady = false
        for batch in inFlight.reversed() {
            pending.insert(contentsOf: batch.entries, at: 0)
        }
        inFlight.removeAll()
    }

    /// Decides the next batch, if any, at `nowNanos`.
    package mutating func next(nowNanos: Int64) -> NextStep {
        guard linkReady, inFlight.count < limits.maxInFlight, let oldest = pending.first else { return .idle }
        let full = pending.count >= limits.maxBatchCount || pendingBytes(upTo: limits.maxBatchCount) >= limits.maxBatchBytes
        let lingerEnds = oldest.queuedAtNanos + limits.lingerNanos
        if !full && inFlight.count > 0 && nowNanos < lingerEnds {
            return .wait(untilNanos: lingerEnds)
        }
        var entries: [Entry] = []
        var bytes = 0
        while let entry = pending.first, entries.count < limits.maxBatchCount,
            entries.isEmpty || bytes + entry.bytes <= limits.maxBatchBytes
        {
            pending.removeFirst()
            bytes += entry.bytes
            entries.append(entry)
        }
        let batchID = nextBatchID
        nextBatchID += 1
        inFlight.append((batchID, entries))
        return .send(Records(batchID: batchID, calls: entries.map(\.call)))
    }

    /// The collector committed `batchID`. Returns false for an ACK of a batch not in flight (a late duplicate).
    @discardableResult
    package mutating func acknowledge(batchID: UInt64) -> Bool {
        guard let index = inFlight.firstIndex(where: { $0.batchID == batchID }) else { return false }
        let batch = inFlight.remove(at: index)
        for entry in batch.entries { queuedBytes -= entry.bytes }
        acknowledgedCalls += batch.entries.count
        return true
    }

    /// The collector could not commit `batchID` (its store is down): the batch goes back to the front.
    package mutating func reject(batchID: UInt64) {
        guard let index = inFlight.firstIndex(where: { $0.batchID == batchID }) else { return }
        let batch = inFlight.remove(at: index)
        pending.insert(contentsOf: batch.entries, at: 0)
    }

    private func pendingBytes(upTo count: Int) -> Int {
        var total = 0
        for entry in pending.prefix(count) { total += entry.bytes }
        return total
    }

    /// The bytes a call takes on the wire, near enough for batching and bounds.
    package static func estimatedSize(of call: CapturedCall) -> Int {
        var size = 160 + call.actionID.utf8.count + call.path.utf8.count + call.requestBody.count + call.responseBody.count
        for header in call.requestHeaders { size += header.name.utf8.count + header.value.utf8.count + 8 }
        for header in call.responseHeaders { size += header.name.utf8.count + header.value.utf8.count + 8 }
        return size
    }
}
