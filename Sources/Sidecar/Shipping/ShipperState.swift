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
///
/// Records given up undelivered (the spool's bound dropped their segment, or no frame can hold them) are reported as
/// `Losses`, split by whether they were ever sent: a record sent on a link and never acknowledged may have been
/// committed by the collector (the ACK lost with the link, or a failed commit that in fact went through), so it is
/// counted apart from those certainly not stored. A dropped segment's records still in flight are not counted when
/// it is dropped but when their batch's outcome is known: acknowledged, or given up when it fails.
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

    /// Records given up without an acknowledgement, by what the collector may have done with them.
    package struct Losses: Equatable, Sendable {
        /// Never sent on a link: certainly not stored (`agentledger_sidecar_calls_dropped_total`).
        package var dropped = 0
        /// Sent on a link at least once, never acknowledged: the collector may have stored them
        /// (`agentledger_sidecar_calls_dropped_unconfirmed_total`).
        package var unconfirmed = 0

        package init(dropped: Int = 0, unconfirmed: Int = 0) {
            self.dropped = dropped
            self.unconfirmed = unconfirmed
        }

        package var isEmpty: Bool { dropped == 0 && unconfirmed == 0 }

        package static func += (left: inout Losses, right: Losses) {
            left.dropped += right.dropped
            left.unconfirmed += right.unconfirmed
        }
    }

    private struct Entry: Sendable {
        var bytes: [UInt8]
        var segment: UInt64
        var queuedAtNanos: Int64
        /// It went out in a batch at least once: whatever became of that batch, the collector may hold it.
        var sent = false
        /// The spool dropped its segment while it was in flight: it is never sent again, and given up (counted) unless
        /// its batch is acknowledged.
        var segmentDropped = false

        /// How this record counts when given up.
        var loss: Losses { sent ? Losses(unconfirmed: 1) : Losses(dropped: 1) }
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
    /// How those records count, until taken.
    private var unsendableLosses = Losses()

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

    /// The spool dropped `segments` to stay within its bound: forgets their pending records, marks those in flight to
    /// be given up unless acknowledged, and returns how the rest counts. Each `Dropped.records` (a segment's records
    /// not acknowledged) is split into those pending here (counted by whether they were ever sent), those in flight
    /// (counted later, by `acknowledge`, `reject` or `linkLost`) and the remainder, never loaded from the spool and so
    /// never sent.
    package mutating func drop(_ segments: [Spool.Dropped]) -> Losses {
        let ids = Set(segments.map(\.segment))
        var losses = Losses()
        var inMemory: [UInt64: Int] = [:]
        pending.removeAll { entry in
            guard ids.contains(entry.segment) else { return false }
            pendingBytes -= entry.bytes.count
            queuedBytes -= entry.bytes.count
            inMemory[entry.segment, default: 0] += 1
            losses += entry.loss
            return true
        }
        for batch in inFlight.indices {
            for entry in inFlight[batch].entries.indices where ids.contains(inFlight[batch].entries[entry].segment) {
                inFlight[batch].entries[entry].segmentDropped = true
                inMemory[inFlight[batch].entries[entry].segment, default: 0] += 1
            }
        }
        for segment in segments {
            losses.dropped += max(0, segment.records - inMemory[segment.segment, default: 0])
        }
        return losses
    }

    /// The link got WELCOME; batches stay within `maxFrameBytes`, the largest frame its collector announced.
    package mutating func linkEstablished(maxFrameBytes: Int = WireFormat.defaultMaxFrameBytes) {
        linkReady = true
        self.maxFrameBytes = maxFrameBytes
    }

    /// Records given up since the last call because no frame the link allows could hold them, by spool segment
    /// (segment 0: held in memory only), and how they count. The caller counts them and acknowledges them in the spool.
    package mutating func takeUnsendable() -> (perSegment: [UInt64: Int], losses: Losses) {
        defer {
            unsendable.removeAll()
            unsendableLosses = Losses()
        }
        return (unsendable, unsendableLosses)
    }

    /// The link is gone: unacknowledged batches return to the front of the queue in their original order, but for
    /// records of segments the spool dropped meanwhile, which are given up (sent, so unconfirmed) and returned.
    package mutating func linkLost() -> Losses {
        linkReady = false
        var losses = Losses()
        for batch in inFlight.reversed() {
            losses += requeue(batch.entries)
        }
        inFlight.removeAll()
        return losses
    }

    /// Puts entries of a batch that failed back at the front of the queue, in order; gives up (and returns) those
    /// whose segment the spool dropped.
    private mutating func requeue(_ entries: [Entry]) -> Losses {
        var losses = Losses()
        var kept: [Entry] = []
        for entry in entries {
            if entry.segmentDropped {
                queuedBytes -= entry.bytes.count
                losses += entry.loss
            } else {
                kept.append(entry)
                pendingBytes += entry.bytes.count
            }
        }
        pending.insert(contentsOf: kept, at: 0)
        return losses
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
            var sent = entry
            sent.sent = true
            entries.append(sent)
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
            unsendableLosses += entry.loss
            return
        }
        entry.bytes = fitted.encodedFields()
        cutRecords += 1
        pending.prepend(entry)
        pendingBytes += entry.bytes.count
        queuedBytes += entry.bytes.count
    }

    /// The collector committed `batchID`: returns how many of its records each spool segment held (segments the spool
    /// has dropped left out), or nil for an ACK of a batch not in flight (a late duplicate).
    package mutating func acknowledge(batchID: UInt64) -> [UInt64: Int]? {
        guard let index = inFlight.firstIndex(where: { $0.batchID == batchID }) else { return nil }
        let batch = inFlight.remove(at: index)
        var perSegment: [UInt64: Int] = [:]
        for entry in batch.entries {
            queuedBytes -= entry.bytes.count
            if !entry.segmentDropped { perSegment[entry.segment, default: 0] += 1 }
        }
        acknowledgedCalls += batch.entries.count
        return perSegment
    }

    /// The collector could not commit `batchID` (its store is down): the batch goes back to the front, but for records
    /// of segments the spool dropped meanwhile, which are given up and returned. They count as unconfirmed: a commit
    /// reported failed may still have gone through (the connection to the store lost during COMMIT).
    package mutating func reject(batchID: UInt64) -> Losses {
        guard let index = inFlight.firstIndex(where: { $0.batchID == batchID }) else { return Losses() }
        let batch = inFlight.remove(at: index)
        return requeue(batch.entries)
    }
}
