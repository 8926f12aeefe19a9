import DequeModule
import LedgerProtocol
import NIOCore

/// The one place the collector answers ADMIT: on the link's event loop, before messages reach the async session loop.
///
/// A decision that needs only memory (a lock and a few lookups) is answered at once, and the VERDICTs of one read go
/// out back to back in one write and one flush. A decision that must first read the session's spend from the store
/// runs in a task and its VERDICT comes back to this loop when done (VERDICTs are matched by request id, so their
/// order does not matter). Without an enforcer every call is admitted. A collector that is not the elected enforcer
/// among several (`Leadership`) forwards the ADMIT to the one that is (`EnforcerForwarder`) and relays its VERDICT;
/// without an answer it answers nothing, and the sidecar follows `AGENTLEDGER_ON_COLLECTOR_DOWN`.
///
/// ADMITs are answered only once the link is authenticated: the session loop tells this handler
/// (`LinkAuthenticated`) before it writes WELCOME, and a sidecar sends ADMIT only after reading WELCOME. An ADMIT that
/// arrives earlier goes on to the session, which refuses it (`IngestSession`).
///
/// Sits between the frame decoder and the encoder (`MessageChannel.wrapping(frameHandlers:)`): it reads messages and
/// writes frames.
final class AdmissionHandler: ChannelDuplexHandler {
    typealias InboundIn = Message
    typealias InboundOut = Message
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Sent by the session loop (`Channel.triggerUserOutboundEvent`) once HELLO is accepted, before WELCOME.
    struct LinkAuthenticated: Sendable {
        /// The source HELLO named: `EnforcerForwarder.source` for another collector forwarding its ADMITs.
        var source: String
    }

    private let enforcer: Enforcer?
    private let forwarder: EnforcerForwarder?
    private var authenticated = false
    /// The link is another collector's, forwarding ADMITs: they are never forwarded again.
    private var fromCollector = false
    private var context: ChannelHandlerContext?
    /// VERDICT frames of the current read, not yet written.
    private var verdicts = ByteWriter(capacity: 4096)
    /// ADMITs of this link waiting for their session's spend to be read from the store, oldest first.
    private var waiting = Deque<Admit>()
    /// Store reads under way for this link.
    private var reading = 0
    /// A flush of late VERDICTs is already queued on the event loop.
    private var flushScheduled = false

    /// Store reads one link may have under way at once; more ADMITs wait in `waiting`.
    static let maxStoreReads = 8
    /// ADMITs one link may have waiting for a store read; a link past it is closed (ERROR `overloaded`), as a link
    /// past its unacknowledged batches is.
    static let maxWaiting = 4096

    init(enforcer: Enforcer?, forwarder: EnforcerForwarder? = nil) {
        self.enforcer = enforcer
        self.forwarder = forwarder
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        waiting.removeAll()  // the link is gone: nobody waits for those verdicts
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard authenticated, case .admit(let admit) = unwrapInboundIn(data) else {
            return context.fireChannelRead(data)
        }
        guard let enforcer else {
            return Message.verdict(Verdict(requestID: admit.requestID, decision: .admit)).encodeFrame(into: &verdicts)
        }
        if !enforcer.leadership.isEnforcer {
            return forward(admit, to: forwarder, on: context.eventLoop)
        }
        if let verdict = enforcer.immediateVerdict(for: admit) {
            return Message.verdict(verdict).encodeFrame(into: &verdicts)
        }
        // The session's lifetime spend is not in memory yet: read it (a bounded number at a time), then answer here.
        guard waiting.count < Self.maxWaiting else {
            let error = ErrorMessage(
                code: .overloaded, message: "more than \(Self.maxWaiting) ADMITs waiting for a store read")
            Message.error(error).encodeFrame(into: &verdicts)
            flushVerdicts()
            context.close(promise: nil)
            return
        }
        waiting.append(admit)
        startStoreReads(enforcer, on: context.eventLoop)
    }

    /// Asks the enforcer, and relays its VERDICT when one comes.
    private func forward(_ admit: Admit, to forwarder: EnforcerForwarder?, on loop: any EventLoop) {
        guard let forwarder, !fromCollector else {
            enforcer?.counters.add(.admissionsUnanswered)
            return
        }
        let handler = NIOLoopBound(self, eventLoop: loop)
        forwarder.forward(admit, answeringOn: loop) { verdict in
            if let verdict { handler.value.send(verdict) }
        }
    }

    /// Starts store reads for waiting ADMITs while fewer than `maxStoreReads` are under way; each answers on `loop`.
    private func startStoreReads(_ enforcer: Enforcer, on loop: any EventLoop) {
        while reading < Self.maxStoreReads, let admit = waiting.popFirst() {
            reading += 1
            let handler = NIOLoopBound(self, eventLoop: loop)
            Task {
                let verdict = await enforcer.verdict(for: admit)
                loop.execute {
                    handler.value.reading -= 1
                    handler.value.send(verdict)
                    handler.value.startStoreReads(enforcer, on: loop)
                }
            }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flushVerdicts()
        context.fireChannelReadComplete()
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        guard let event = event as? LinkAuthenticated else {
            return context.triggerUserOutboundEvent(event, promise: promise)
        }
        authenticated = true
        fromCollector = event.source == EnforcerForwarder.source
        promise?.succeed()
    }

    /// A VERDICT decided after the read it came in (a store read, or the enforcer's answer to a forwarded ADMIT):
    /// written with the others that come back in the same turn of the event loop, in one write and one flush (the
    /// link may have closed meanwhile).
    private func send(_ verdict: Verdict) {
        guard let loop = context?.eventLoop else { return }  // the link is gone
        Message.verdict(verdict).encodeFrame(into: &verdicts)
        guard !flushScheduled else { return }
        flushScheduled = true
        let handler = NIOLoopBound(self, eventLoop: loop)
        loop.execute {
            handler.value.flushScheduled = false
            handler.value.flushVerdicts()
        }
    }

    private func flushVerdicts() {
        guard !verdicts.bytes.isEmpty else { return }
        defer { verdicts.clear() }
        guard let context, context.channel.isActive else { return }
        var frames = context.channel.allocator.buffer(capacity: verdicts.bytes.count)
        frames.writeBytes(verdicts.bytes)
        context.writeAndFlush(wrapOutboundOut(frames), promise: nil)
    }
}
