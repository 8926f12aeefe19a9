import DequeModule
import LedgerProtocol

/// Batching and acknowledgement bookkeeping of the shipper, free of I/O and clocks.
///
/// Records (calls already encoded, each tagged with the spool segment that holds it) wait in `pending`
/// until a batch leaves; a batch stays in flight until its ACK. When the link drops, every unacknowledged
/// batch goes back to the front of the queue, in order, and is sent again: delivery is at-least-once and
/// the collector's store is idempotent on `action_id`.
///
/// No frame is built larger than the link's `maxFrameBytes` (WELCOME's `max_frame_bytes`): a record too large to
/// go alone is cut to fit (`CapturedCall.fitted(toEncodedBytes:)`), never resent whole forever.
package struct ShipperState: Sendable {
    /// How batches are cut.
    package struct Limits: Sendable {
        /// Most calls in one RECORDS frame.
        package var maxBatchCount = 256
        /// Most bytes in one RECORDS frame (a larger single record goes alone).
        package var maxBatchBytes = 4 << 20
        /// Most unacknowledged batches on the link at once.
        package var maxInFlight = 4
        /// How long a lone call may wait for company while a batch is in flight, in nanoseconds.
        package var lingerNanos: Int64 = 2_000_000
        /// Bytes of records held in memory; the rest waits in the spool until there is room.
        package var maxQueuedBytes = 8 << 20

        package init() {}
    }

    /// What the sender should do next.
    package enum NextStep: Equatable, Sendable {
        case send(Batch)
        /// Nothing to send before this instant (nanoseconds on the caller's clock): a linger is running.
        case wait(untilNanos: Int64)
        /// Nothing to send at all (queue empty, window full or link not ready).
        case idle
    }

    /// One RECORDS frame's worth of encoded calls.
    package struct Batch: Equatable, Sendable {
        package var batchID: UInt64
        package var calls: [[UInt8]]
    }

    private struct Entry: Sendable {
        var bytes: [UInt8]
        var segment: UInt64
        var queuedAtNanos: Int64
    }

    package let limits: Limits
    private var pending = Deque<Entry>()
    private var pendingBytes = 0
    private var inFlight: [(batchID: UInt64, entries: [Entry])] = []
    private var nextBatchID: UInt64 = 1
    /// Bytes of records in memory, pending or in flight.
    package private(set) var queuedBytes = 0
    /// The link has said HELLO and got WELCOME.
    package private(set) var linkReady = false
    package private(set) var acknowledgedCalls = 0
    /// The largest frame the link's collector accepts, from its WELCOME.
    package private(set) var maxFrameBytes = WireFormat.defaultMaxFrameBytes
    /// Records cut to fit the link's largest frame.
    package private(set) var cutRecords = 0
    /// Records that could not fit the link's largest frame even with empty bodies, by spool segment, until taken.
    private var unsendable: [UInt64: Int] = [:]

    package init(limits: Limits = Limits()) {
        self.limits = limits
    }

    package var pendingCount: Int { pending.count }
    /// Nothing waits in memory and nothing is unacknowledged.
    package var isIdle: Bool { pending.isEmpty && inFlight.isEmpty }
    /// Whether memory has room for more records.
    package var hasRoom: Bool { queuedBytes < limits.maxQueuedBytes }
    /// Whether the queue is short enough that the next batch could take more from the spool.
    package var wantsMore: Bool { pendingBytes < limits.maxBatchBytes && hasRoom }

    package mutating func enqueue(_ bytes: [UInt8], segment: UInt64, nowNanos: Int64) {
        pending.append(Entry(bytes: bytes, segment: segment, queuedAtNanos: nowNanos))
        pendingBytes += bytes.count
        queuedBytes += bytes.count
    }

    /// Forgets pending records of segments the spool dropped to stay within its bound; returns how many.
    @discardableResult
    package mutating func drop(segments: Set<UInt64>) -> Int {
        let before = pending.count
        pending.removeAll { entry in
            guard segments.contains(entry.segment) else { return false }
            pendingBytes -= entry.bytes.count
            queuedBytes -= entry.bytes.count
            return true
        }
        return before - pending.count
    }

    /// The link got WELCOME; batches stay within `maxFrameBytes`, the largest frame its collector announced.
    package mutating func linkEstablished(maxFrameBytes: Int = WireFormat.defaultMaxFrameBytes) {
        linkReady = true
        self.maxFrameBytes = maxFrameBytes
    }

    /// Records given up since the last call because no frame the link allows could hold them, by spool segment
    /// (segment 0: held in memory only). The caller counts them as dropped and acknowledges them in the spool.
    package mutating func takeUnsendable() -> [UInt64: Int] {
        defer { unsendable.removeAll() }
        return unsendable
    }

    /// The link is gone: unacknowledged batches return to the front of the queue in their original order.
    package mutating func linkLost() {
        linkReady = false
        for batch in inFlight.reversed() {
            pending.insert(contentsOf: batch.entries, at: 0)
            pendingBytes += batch.entries.reduce(0) { $0 + $1.bytes.count }
        }
        inFlight.removeAll()
    }

    /// Decides the next batch, if any, at `nowNanos`.
    package mutating func next(nowNanos: Int64) -> NextStep {
        guard linkReady, inFlight.count < limits.maxInFlight, let oldest = pending.first else { return .idle }
        let full = pending.count >= limits.maxBatchCount || pendingBytes >= limits.maxBatchBytes
        let lingerEnds = oldest.queuedAtNanos + limits.lingerNanos
        if !full && inFlight.count > 0 && nowNanos < lingerEnds {
            return .wait(untilNanos: lingerEnds)
        }
        var entries: [Entry] = []
        var bytes = 0
        var frameBytes = Records.frameOverheadBytes
        while let entry = pending.first, entries.count < limits.maxBatchCount {
            let recordFrameBytes = entry.bytes.count + Records.perRecordOverheadBytes
            if entries.isEmpty && frameBytes + recordFrameBytes > maxFrameBytes {
                fitFirstToFrame()
                continue
            }
            guard
                entries.isEmpty
                    || (bytes + entry.bytes.count <= limits.maxBatchBytes && frameBytes + recordFrameBytes <= maxFrameBytes)
            else { break }
            pending.removeFirst()
            bytes += entry.bytes.count
            frameBytes += recordFrameBytes
            entries.append(entry)
        }
        pendingBytes -= bytes
        guard !entries.isEmpty else { return .idle }
        let batchID = nextBatchID
        nextBatchID += 1
        inFlight.append((batchID, entries))
        return .send(Batch(batchID: batchID, calls: entries.map(\.bytes)))
    }

    /// Replaces the first pending record, too large for one frame of the link, by the record cut to fit; gives it up
    /// (into `unsendable`) when it cannot fit or cannot be read.
    private mutating func fitFirstToFrame() {
        var entry = pending.removeFirst()
        pendingBytes -= entry.bytes.count
        queuedBytes -= entry.bytes.count
        guard let call = try? CapturedCall.decodeFields(entry.bytes[...]),
            let fitted = call.fitted(toEncodedBytes: Records.maxRecordBytes(inFrameOf: maxFrameBytes))
        else {
            unsendable[entry.segment, default: 0] += 1
            return
        }
        entry.bytes = fitted.encodedFields()
        cutRecords += 1
        pending.prepend(entry)
        pendingBytes += entry.bytes.count
        queuedBytes += entry.bytes.count
    }

    /// The collector committed `batchID`: returns how many of its records each spool segment held, or nil
    /// for an ACK of a batch not in flight (a late duplicate).
    package mutating func acknowledge(batchID: UInt64) -> [UInt64: Int]? {
        guard let index = inFlight.firstIndex(where: { $0.batchID == batchID }) else { return nil }
        let batch = inFlight.remove(at: index)
        var perSegment: [UInt64: Int] = [:]
        for entry in batch.entries {
            queuedBytes -= entry.bytes.count
            perSegment[entry.segment, default: 0] += 1
        }
        acknowledgedCalls += batch.entries.count
        return perSegment
    }

    /// The collector could not commit `batchID` (its store is down): the batch goes back to the front.
    package mutating func reject(batchID: UInt64) {
        guard let index = inFlight.firstIndex(where: { $0.batchID == batchID }) else { return }
        let batch = inFlight.remove(at: index)
        pending.insert(contentsOf: batch.entries, at: 0)
        pendingBytes += batch.entries.reduce(0) { $0 + $1.bytes.count }
    }
}
