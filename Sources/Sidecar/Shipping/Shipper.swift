import LedgerProtocol
import Logging
import Prometheus
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Takes captured calls from the proxy and hands batches to the collector link.
///
/// `ship` encodes the call once, appends it to the spool (a `write` to the page cache, so a killed sidecar
/// loses nothing) and queues it in memory when there is room; otherwise it waits on disk and is loaded
/// when the queue drains. The link's sender task is woken through an `AsyncStream`. Never blocks on the network.
///
/// Every call captured ends acknowledged or counted, once: `calls_dropped_total` for calls given up that no collector
/// can have stored (never sent, or corrupt in the spool), `calls_dropped_unconfirmed_total` for calls given up after
/// being sent without an ACK, which the collector may have stored (`ShipperState.Losses`).
package final class Shipper: Sendable {
    private struct Guarded: ~Copyable {
        var state: ShipperState
        var spool: Spool?
        var waker: AsyncStream<Void>.Continuation?
        var draining = false
        var linksEstablished = 0
        /// Appends that failed since the spool last took one (a burst), and of their calls those that were lost.
        var failedAppends = 0
        var lostInBurst = 0
        var readFailing = false
        /// The most bytes queued in memory since the heap was last trimmed.
        var queuedPeak = 0
    }

    /// A queue that held this much and has drained hands the freed heap back to the kernel.
    private static let trimAfterQueuedBytes = 1 << 20
    /// The largest record the spool takes: one that fits alone in a frame of the default size (docs/operations.md,
    /// "Record size"). Larger calls have their bodies cut.
    package static let maxRecordBytes = Records.maxRecordBytes(inFrameOf: WireFormat.defaultMaxFrameBytes)

    private let guarded: Mutex<Guarded>
    private let clock = ContinuousClock()
    private let epoch: ContinuousClock.Instant
    private let logger: Logger
    package let counters: SidecarCounters

    /// A shipper over `spool` (nil keeps records in memory only, bounded by `limits.maxQueuedBytes`). `registry`: the
    /// sidecar's metrics, where `counters` go.
    package init(
        limits: ShipperState.Limits = ShipperState.Limits(), spool: sending Spool? = nil,
        registry: PrometheusCollectorRegistry = .init(), logger: Logger = Logger(label: "agentledger.shipper")
    ) {
        counters = SidecarCounters(registry: registry)
        let tornBytes = spool?.truncatedBytes ?? 0
        guarded = Mutex(Guarded(state: ShipperState(limits: limits), spool: spool))
        epoch = clock.now
        self.logger = logger
        counters.add(.spoolTornBytes, tornBytes)
    }

    /// Nanoseconds on the shipper's monotonic clock.
    package var nowNanos: Int64 {
        let elapsed = clock.now - epoch
        return elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000
    }

    /// Records a captured call durably and queues it for the collector.
    ///
    /// A call whose spool append fails (a full disk, EIO) is kept in memory while there is room, and dropped and
    /// counted otherwise; a burst of failures is logged once when it starts and once when the spool takes a record
    /// again (docs/operations.md, "Spool"). Segments the append drops to keep the spool within its bound are counted
    /// as `ShipperState.drop(_:)` splits them.
    package func ship(_ call: CapturedCall) {
        counters.add(.captured)
        guard let encoded = encodedToFit(call) else { return }
        let now = nowNanos
        var failure: (any Error)?
        var appendFailed = false
        var recovered: (failed: Int, lost: Int)?
        let (losses, waker) = guarded.withLock { guarded -> (ShipperState.Losses, AsyncStream<Void>.Continuation?) in
            var losses = ShipperState.Losses()
            if let spool = guarded.spool {
                do {
                    let caughtUp = !spool.hasUnloaded
                    let (segment, lost) = try spool.append(encoded)
                    if !lost.isEmpty { losses += guarded.state.drop(lost) }
                    // While no link is up the record waits on disk only: memory holds what is about to be sent. A record
                    // whose own segment was just dropped (a record larger than the bound) is counted in `losses` already.
                    if caughtUp && guarded.state.linkReady && guarded.state.hasRoom
                        && !lost.contains(where: { $0.segment == segment })
                    {
                        guarded.state.enqueue(encoded, segment: segment, nowNanos: now)
                        guarded.queuedPeak = max(guarded.queuedPeak, guarded.state.queuedBytes)
                        spool.markLoadedToEnd()
                    }
                    if guarded.failedAppends > 0 {
                        recovered = (guarded.failedAppends, guarded.lostInBurst)
                        guarded.failedAppends = 0
                        guarded.lostInBurst = 0
                    }
                    return (losses, guarded.waker)
                } catch {
                    if guarded.failedAppends == 0 { failure = error }
                    guarded.failedAppends += 1
                    appendFailed = true
                }
            }
            // No spool, or it failed: memory is all there is.
            if guarded.state.hasRoom {
                guarded.state.enqueue(encoded, segment: 0, nowNanos: now)
            } else {
                losses.dropped += 1  // never sent
                if guarded.spool != nil { guarded.lostInBurst += 1 }
            }
            return (losses, guarded.waker)
        }
        count(losses)
        if let failure {
            logger.error(
                "spool write failed; keeping calls in memory only until it takes records again",
                metadata: ["error": "\(failure)"])
        }
        if appendFailed { counters.add(.spoolErrors) }
        if let recovered {
            logger.warning(
                "spool writes work again",
                metadata: ["failed_appends": "\(recovered.failed)", "calls_lost": "\(recovered.lost)"])
        }
        waker?.yield()
    }

    /// The call's record, its bodies cut when it would not fit alone in a frame; nil (counted and logged) when it
    /// cannot fit even without them.
    private func encodedToFit(_ call: CapturedCall) -> [UInt8]? {
        let encoded = call.encodedFields()
        guard encoded.count > Self.maxRecordBytes else { return encoded }
        guard let fitted = call.fitted(toEncodedBytes: Self.maxRecordBytes) else {
            counters.add(.dropped)
            logger.error(
                "call dropped: its record exceeds the largest frame even without bodies",
                metadata: ["action_id": "\(call.actionID)", "bytes": "\(encoded.count)"])
            return nil
        }
        counters.add(.recordsCut)
        logger.warning(
            "call bodies cut to fit one frame",
            metadata: [
                "action_id": "\(call.actionID)", "bytes": "\(encoded.count)", "limit": "\(Self.maxRecordBytes)",
            ])
        return fitted.encodedFields()
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

    /// The link got WELCOME: its collector takes frames of up to `maxFrameBytes`.
    package func linkEstablished(maxFrameBytes: Int = WireFormat.defaultMaxFrameBytes) {
        let waker = guarded.withLock { guarded in
            guarded.state.linkEstablished(maxFrameBytes: maxFrameBytes)
            guarded.linksEstablished += 1
            return guarded.waker
        }
        waker?.yield()
    }

    /// Counts calls given up undelivered, by whether they were ever sent.
    private func count(_ losses: ShipperState.Losses) {
        if losses.dropped > 0 { counters.add(.dropped, losses.dropped) }
        if losses.unconfirmed > 0 { counters.add(.droppedUnconfirmed, losses.unconfirmed) }
    }

    /// The connection ended: unacknowledged batches go back to the queue (those of segments the spool dropped while
    /// they were in flight are given up and counted as unconfirmed).
    package func linkLost() {
        let (waker, losses) = guarded.withLock { guarded in
            let losses = guarded.state.linkLost()
            defer { guarded.waker = nil }
            return (guarded.waker, losses)
        }
        count(losses)
        waker?.finish()
    }

    /// How long after a failed spool read the read is tried again when nothing else is to be sent: 250 ms.
    static let spoolReadRetryNanos: Int64 = 250_000_000

    /// The next batch to send, topping the memory queue up from the spool first.
    ///
    /// A spool read that fails keeps what was read before it; the record it failed on is tried again at the next
    /// call, never skipped. A record read but failing its CRC (or with an impossible header) is skipped, counted (as
    /// corrupt and as dropped) and logged once. Records too large for the link's frames are cut (counted) or, when they cannot fit at
    /// all, dropped (counted and acknowledged in the spool so they do not block the ones behind them).
    package func next() -> ShipperState.NextStep {
        let now = nowNanos
        var failure: (any Error)?
        var readFailed = false
        var readRecovered = false
        var corruptions: [Spool.Corruption] = []
        let (step, cut, unsendable) = guarded.withLock { guarded in
            if let spool = guarded.spool, guarded.state.wantsMore, spool.hasUnloaded {
                var loaded: [(segment: UInt64, payload: [UInt8])] = []
                do {
                    try spool.loadNext(maxBytes: guarded.state.limits.maxBatchBytes, into: &loaded)
                    readRecovered = guarded.readFailing
                    guarded.readFailing = false
                } catch {
                    if !guarded.readFailing { failure = error }
                    guarded.readFailing = true
                    readFailed = true
                }
                corruptions = spool.takeCorruptions()
                for (segment, payload) in loaded {
                    guarded.state.enqueue(payload, segment: segment, nowNanos: now - guarded.state.limits.lingerNanos)
                }
                guarded.queuedPeak = max(guarded.queuedPeak, guarded.state.queuedBytes)
            }
            let cutBefore = guarded.state.cutRecords
            let step = guarded.state.next(nowNanos: now)
            let unsendable = guarded.state.takeUnsendable()
            for (segment, records) in unsendable.perSegment where segment != 0 {
                guarded.spool?.acknowledge(segment: segment, records: records)
            }
            return (step, guarded.state.cutRecords - cutBefore, unsendable.losses)
        }
        if readFailed { counters.add(.spoolErrors) }
        for corruption in corruptions {
            counters.add(.spoolCorruptRecords, corruption.records)
            counters.add(.dropped, corruption.records)
            logger.error(
                "corrupt spool record (CRC or header); skipped to the next whole record",
                metadata: [
                    "segment": "\(corruption.path)", "offset": "\(corruption.offset)", "bytes": "\(corruption.bytes)",
                    "calls_lost": "\(corruption.records)",
                ])
        }
        if let failure {
            logger.error("spool read failed; retrying the same record", metadata: ["error": "\(failure)"])
        }
        if readRecovered { logger.warning("spool reads work again") }
        if cut > 0 { counters.add(.recordsCut, cut) }
        if !unsendable.isEmpty {
            count(unsendable)
            logger.error(
                "calls dropped: their records do not fit the collector's largest frame even without bodies",
                metadata: ["calls": "\(unsendable.dropped + unsendable.unconfirmed)"])
        }
        // Nothing else may come to wake the sender (the agents may be idle): try the failed read again shortly.
        if readFailed, step == .idle { return .wait(untilNanos: now &+ Self.spoolReadRetryNanos) }
        return step
    }

    package func acknowledge(_ ack: Ack) {
        let (known, waker, finished, trim) = guarded.withLock { guarded in
            let perSegment = guarded.state.acknowledge(batchID: ack.batchID)
            for (segment, records) in perSegment ?? [:] where segment != 0 {
                guarded.spool?.acknowledge(segment: segment, records: records)
            }
            let idle = guarded.state.isIdle && !(guarded.spool?.hasUnloaded ?? false)
            let trim = idle && guarded.queuedPeak >= Self.trimAfterQueuedBytes
            if trim { guarded.queuedPeak = 0 }
            return (perSegment != nil, guarded.waker, guarded.draining && idle, trim)
        }
        if known { counters.add(.acknowledged, Int(ack.stored) + Int(ack.duplicates)) }
        // After a replay drains, the megabytes of records it held go back to the kernel.
        if trim { HeapTrim.trim() }
        if finished { waker?.finish() } else { waker?.yield() }
    }

    /// The collector could not commit `batchID`: it is sent again (records of segments the spool dropped meanwhile
    /// are given up and counted as unconfirmed instead).
    package func reject(batchID: UInt64) {
        count(guarded.withLock { $0.state.reject(batchID: batchID) })
    }

    /// Makes spooled records durable against a machine crash (a killed process loses nothing anyway).
    /// The `fsync`s run outside the lock, so callers of `ship` never wait for them.
    package func syncSpool() {
        for descriptor in guarded.withLock({ $0.spool?.takeUnsyncedDescriptors() ?? [] }) {
            _ = fsync(descriptor)
            _ = close(descriptor)
        }
    }

    /// Shutdown has begun: once the queue is empty and acknowledged, the link may close.
    package func beginDrain() {
        let (waker, idle) = guarded.withLock { guarded in
            guarded.draining = true
            return (guarded.waker, guarded.state.isIdle && !(guarded.spool?.hasUnloaded ?? false))
        }
        if idle { waker?.finish() } else { waker?.yield() }
    }

    package var linksEstablished: Int { guarded.withLock { $0.linksEstablished } }
    package var isLinkReady: Bool { guarded.withLock { $0.state.linkReady } }
    package var isDraining: Bool { guarded.withLock { $0.draining } }
    package var isIdle: Bool { guarded.withLock { $0.state.isIdle && !($0.spool?.hasUnloaded ?? false) } }
    /// Calls not yet acknowledged that sit in memory.
    package var queuedCalls: Int { guarded.withLock { $0.state.pendingCount } }
    package var spoolBytes: Int { guarded.withLock { $0.spool?.totalBytes ?? 0 } }
    package var queuedBytes: Int { guarded.withLock { $0.state.queuedBytes } }
}
