import LedgerProtocol
import NIOCore
import Prometheus
import Synchronization

/// Asks the collector whether a call may go upstream: one ADMIT out on the open link, one VERDICT back, matched by
/// request id. Calls wait at most `timeout`; no link, a link that drops, or no answer in time is `unavailable`, and
/// the proxy then follows `AGENTLEDGER_ON_COLLECTOR_DOWN`.
///
/// Both directions stay on the link's event loop: ADMITs waiting together go out in one write and one flush, and
/// the VERDICT is resolved where it is read (`VerdictHandler`) and handed straight to the event loop the call
/// waits on, so a call costs one hop to the link's loop and one back.
package final class AdmissionClient: Sendable {
    /// How an admission ended.
    package enum Outcome: Sendable, Equatable {
        /// The collector enforces nothing: forwarded without asking.
        case notRequired
        case admitted
        case refused(Verdict)
        /// No decision could be had (no link, link lost, or timeout).
        case unavailable(String)
    }

    /// Writes ADMIT frames on the link, then flushes; called on the link's event loop.
    package typealias FrameWriter = @Sendable ([ByteBuffer]) -> Void

    /// Who waits for an outcome: an async caller, or a callback to run on an event loop (an agent connection's).
    private enum Waiter: Sendable {
        case task(CheckedContinuation<Outcome, Never>)
        case eventLoop(any EventLoop, @Sendable (Outcome) -> Void)

        func resume(_ outcome: Outcome) {
            switch self {
            case .task(let continuation): continuation.resume(returning: outcome)
            case .eventLoop(let eventLoop, let done): eventLoop.execute { done(outcome) }
            }
        }
    }

    private struct Pending {
        var waiter: Waiter
        var askedAt: NIODeadline
    }

    private struct Link: ~Copyable {
        /// Where and how ADMITs are written; nil while no link is up. `generation` tells links apart.
        var transport: (eventLoop: any EventLoop, write: FrameWriter, generation: UInt64)?
        var generation: UInt64 = 0
        var expiry: RepeatedTask?
        /// ADMIT frames not yet handed to the event loop, and whether a hand-over is already on its way.
        var frames: [ByteBuffer] = []
        var handOverScheduled = false
        /// WELCOME arrived on the current link.
        var welcomed = false
        /// What the last WELCOME said; kept while the link is down, so a lost link means "unavailable".
        var required = false
        /// The protocol version the current link speaks: below 2, an ADMIT leaves out its environment.
        var version: UInt16 = 1
        var nextID: UInt64 = 0
        var pending: [UInt64: Pending] = [:]
    }

    private enum Queued {
        case noLink
        case queued
        case handOver(any EventLoop, UInt64)
    }

    private let link = Mutex(Link())
    let timeout: TimeAmount

    /// The sidecar's metrics registry, where `latency` is.
    package let registry: PrometheusCollectorRegistry
    /// The admission round trips seen so far (ADMIT queued to VERDICT read).
    package let latency: AdmissionLatency

    /// `timeout` is `AGENTLEDGER_ADMISSION_TIMEOUT_MS` (default 500 ms); `registry`, the sidecar's metrics;
    /// `latencyMetric`, the round-trip histogram's name and help when not the sidecar's.
    package init(
        timeout: Duration = .milliseconds(500), registry: PrometheusCollectorRegistry = .init(),
        latencyMetric: (name: String, help: String) = (AdmissionLatency.name, AdmissionLatency.help)
    ) {
        self.registry = registry
        latency = AdmissionLatency(registry: registry, name: latencyMetric.name, help: latencyMetric.help)
        let parts = timeout.components
        self.timeout = .nanoseconds(parts.seconds * 1_000_000_000 + parts.attoseconds / 1_000_000_000)
    }

    /// Whether the collector asked for ADMIT before each call (WELCOME's `admission_required`).
    package var isRequired: Bool { link.withLock { $0.required } }

    /// Whether a link is up and welcomed: ADMITs go out now.
    package var isLinked: Bool { link.withLock { $0.welcomed && $0.transport != nil } }

    /// Calls waiting for a verdict.
    package var waitingCount: Int { link.withLock { $0.pending.count } }

    /// A new link: ADMITs are written with `write` on `eventLoop` from now on. Calls still waiting on an earlier link
    /// get no decision.
    package func attach(on eventLoop: any EventLoop, write: @escaping FrameWriter) {
        let timeout = self.timeout
        // Expiry is checked a few times per timeout: a late verdict is given up at most a tick after the timeout.
        let tick = TimeAmount.nanoseconds(min(max(timeout.nanoseconds / 8, 1_000_000), 50_000_000))
        let expiry = eventLoop.scheduleRepeatedTask(initialDelay: tick, delay: tick) { _ in
            self.expire(olderThan: .now() - timeout)
        }
        let (abandoned, previous) = link.withLock { link -> ([Pending], RepeatedTask?) in
            link.generation &+= 1
            link.transport = (eventLoop, write, link.generation)
            link.frames = []
            link.handOverScheduled = false
            link.welcomed = false
            defer {
                link.pending = [:]
                link.expiry = expiry
            }
            return (Array(link.pending.values), link.expiry)
        }
        previous?.cancel()
        Self.fail(abandoned, "collector link was replaced")
    }

    /// The collector welcomed the link (in the version it chose) and said whether it wants ADMIT.
    package func welcomed(admissionRequired: Bool, protocolVersion: UInt16 = 1) {
        link.withLock { link in
            link.welcomed = true
            link.required = admissionRequired
            link.version = protocolVersion
        }
    }

    /// The link ended: every waiting call is told there is no decision.
    package func detach() {
        let (abandoned, expiry) = link.withLock { link -> ([Pending], RepeatedTask?) in
            link.transport = nil
            link.frames = []
            link.welcomed = false
            defer {
                link.pending = [:]
                link.expiry = nil
            }
            return (Array(link.pending.values), link.expiry)
        }
        expiry?.cancel()
        Self.fail(abandoned, "collector link lost before a verdict")
    }

    /// A VERDICT arrived.
    package func resolve(_ verdict: Verdict) {
        let now = NIODeadline.now()
        let pending = link.withLock { link -> Pending? in
            link.pending.removeValue(forKey: verdict.requestID)
        }
        if let pending { latency.record(now - pending.askedAt) }
        pending?.waiter.resume(verdict.decision == .admit ? .admitted : .refused(verdict))
    }

    /// Asks for admission of one call; `makeAdmit` receives the request id.
    package func admit(_ makeAdmit: (UInt64) -> Admit) async -> Outcome {
        await withCheckedContinuation { continuation in
            ask(makeAdmit, for: .task(continuation))
        }
    }

    /// Asks for admission of one call without a task: `done` runs on `eventLoop` with the outcome, always after
    /// this returns. The VERDICT is handed from the link's loop straight to `eventLoop`.
    package func admit(
        _ makeAdmit: (UInt64) -> Admit, answeringOn eventLoop: any EventLoop,
        _ done: @escaping @Sendable (Outcome) -> Void
    ) {
        ask(makeAdmit, for: .eventLoop(eventLoop, done))
    }

    private func ask(_ makeAdmit: (UInt64) -> Admit, for waiter: Waiter) {
        let asked: (id: UInt64, version: UInt16)? = link.withLock { link in
            guard link.required, link.welcomed, link.transport != nil else { return nil }
            link.nextID &+= 1
            return (link.nextID, link.version)
        }
        guard let (id, version) = asked else {
            return waiter.resume(isRequired ? .unavailable("no collector link") : .notRequired)
        }
        var admit = makeAdmit(id)
        if version < 2 { admit.environment = nil }  // a version-1 collector reads no environment
        let frame = ByteBuffer(bytes: Message.admit(admit).encodedFrame())
        let queued = link.withLock { link -> Queued in
            guard let transport = link.transport else { return .noLink }
            link.pending[id] = Pending(waiter: waiter, askedAt: .now())
            link.frames.append(frame)
            if link.handOverScheduled { return .queued }
            link.handOverScheduled = true
            return .handOver(transport.eventLoop, transport.generation)
        }
        switch queued {
        case .noLink: waiter.resume(.unavailable("collector link lost"))
        case .queued: break
        case .handOver(let eventLoop, let generation): eventLoop.execute { self.handOver(generation) }
        }
    }

    /// On the event loop: writes every ADMIT queued so far, with one flush.
    private func handOver(_ generation: UInt64) {
        let taken = link.withLock { link -> ([ByteBuffer], FrameWriter)? in
            guard let transport = link.transport, transport.generation == generation else { return nil }
            link.handOverScheduled = false
            defer { link.frames = [] }
            return (link.frames, transport.write)
        }
        guard let (frames, write) = taken, !frames.isEmpty else { return }
        write(frames)
    }

    private func expire(olderThan cutoff: NIODeadline) {
        let expired = link.withLock { link -> [Pending] in
            let ids = link.pending.compactMap { $0.value.askedAt <= cutoff ? $0.key : nil }
            return ids.compactMap { link.pending.removeValue(forKey: $0) }
        }
        for pending in expired {
            pending.waiter.resume(.unavailable("no verdict from the collector in time"))
        }
    }

    private static func fail(_ abandoned: [Pending], _ reason: String) {
        for pending in abandoned {
            pending.waiter.resume(.unavailable(reason))
        }
    }
}
