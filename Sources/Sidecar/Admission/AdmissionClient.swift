import LedgerProtocol
import NIOCore
import NIOPosix
import Synchronization

/// Asks the collector whether a call may go upstream: one ADMIT out on the open link, one VERDICT back, matched by
/// request id. Calls wait at most `timeout`; no link, a link that drops, or no answer in time is `unavailable`, and
/// the proxy then follows `AGENTLEDGER_ON_COLLECTOR_DOWN`.
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

    private struct Pending {
        var continuation: CheckedContinuation<Outcome, Never>
        var timeout: Scheduled<Void>?
    }

    private struct Link: ~Copyable {
        /// Wakes the link's admission writer; nil while no link is up.
        var outbox: AsyncStream<Void>.Continuation?
        /// ADMIT frames not yet taken by the writer: under load several go out with one write and one flush.
        var frames: [ByteBuffer] = []
        /// WELCOME arrived on the current link.
        var welcomed = false
        /// What the last WELCOME said; kept while the link is down, so a lost link means "unavailable".
        var required = false
        var nextID: UInt64 = 0
        var pending: [UInt64: Pending] = [:]
    }

    private let link = Mutex(Link())
    let timeout: TimeAmount

    /// `timeout` is `AGENTLEDGER_ADMISSION_TIMEOUT_MS` (default 500 ms).
    package init(timeout: Duration = .milliseconds(500)) {
        let parts = timeout.components
        self.timeout = .nanoseconds(parts.seconds * 1_000_000_000 + parts.attoseconds / 1_000_000_000)
    }

    /// Whether the collector asked for ADMIT before each call (WELCOME's `admission_required`).
    package var isRequired: Bool { link.withLock { $0.required } }

    /// A new link: returns the stream that wakes its writer whenever `takeFrames()` has ADMITs to send.
    package func attach() -> AsyncStream<Void> {
        let (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let abandoned = link.withLock { link -> [Pending] in
            link.outbox?.finish()
            link.outbox = continuation
            link.frames = []
            link.welcomed = false
            defer { link.pending = [:] }
            return Array(link.pending.values)
        }
        Self.fail(abandoned, "collector link was replaced")
        return stream
    }

    /// The collector welcomed the link and said whether it wants ADMIT.
    package func welcomed(admissionRequired: Bool) {
        link.withLock { link in
            link.welcomed = true
            link.required = admissionRequired
        }
    }

    /// The link ended: every waiting call is told there is no decision.
    package func detach() {
        let abandoned = link.withLock { link -> [Pending] in
            link.outbox?.finish()
            link.outbox = nil
            link.frames = []
            link.welcomed = false
            defer { link.pending = [:] }
            return Array(link.pending.values)
        }
        Self.fail(abandoned, "collector link lost before a verdict")
    }

    /// The ADMIT frames waiting to be written, in order.
    package func takeFrames() -> [ByteBuffer] {
        link.withLock { link in
            defer { link.frames = [] }
            return link.frames
        }
    }

    /// A VERDICT arrived.
    package func resolve(_ verdict: Verdict) {
        guard let pending = link.withLock({ $0.pending.removeValue(forKey: verdict.requestID) }) else { return }
        pending.timeout?.cancel()
        pending.continuation.resume(returning: verdict.decision == .admit ? .admitted : .refused(verdict))
    }

    /// Asks for admission of one call; `makeAdmit` receives the request id.
    package func admit(_ makeAdmit: (UInt64) -> Admit) async -> Outcome {
        let id: UInt64? = link.withLock { link in
            guard link.required, link.welcomed, link.outbox != nil else { return nil }
            link.nextID &+= 1
            return link.nextID
        }
        guard let id else { return isRequired ? .unavailable("no collector link") : .notRequired }
        let frame = ByteBuffer(bytes: Message.admit(makeAdmit(id)).encodedFrame())
        let eventLoop = MultiThreadedEventLoopGroup.singleton.any()
        let timeout = self.timeout
        return await withCheckedContinuation { continuation in
            let sent = link.withLock { link -> Bool in
                guard let outbox = link.outbox else { return false }
                link.pending[id] = Pending(continuation: continuation)
                link.frames.append(frame)
                outbox.yield()
                return true
            }
            guard sent else {
                continuation.resume(returning: .unavailable("collector link lost"))
                return
            }
            let scheduled = eventLoop.scheduleTask(in: timeout) { self.expire(id) }
            let resolvedAlready = link.withLock { link -> Bool in
                guard link.pending[id] != nil else { return true }
                link.pending[id]?.timeout = scheduled
                return false
            }
            if resolvedAlready { scheduled.cancel() }
        }
    }

    private func expire(_ id: UInt64) {
        guard let pending = link.withLock({ $0.pending.removeValue(forKey: id) }) else { return }
        pending.continuation.resume(returning: .unavailable("no verdict from the collector in time"))
    }

    private static func fail(_ abandoned: [Pending], _ reason: String) {
        for pending in abandoned {
            pending.timeout?.cancel()
            pending.continuation.resume(returning: .unavailable(reason))
        }
    }
}
