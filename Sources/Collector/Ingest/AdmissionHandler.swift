import LedgerProtocol
import NIOCore

/// The one place the collector answers ADMIT: on the link's event loop, before messages reach the async session loop.
///
/// A decision that needs only memory (a lock and a few lookups) is answered at once, and the VERDICTs of one read go
/// out back to back in one write and one flush. A decision that must first read the session's spend from the store
/// runs in a task and its VERDICT comes back to this loop when done (VERDICTs are matched by request id, so their
/// order does not matter). Without an enforcer every call is admitted.
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
    struct LinkAuthenticated: Sendable {}

    private let enforcer: Enforcer?
    private var authenticated = false
    private var context: ChannelHandlerContext?
    /// VERDICT frames of the current read, not yet written.
    private var verdicts = ByteWriter(capacity: 4096)

    init(enforcer: Enforcer?) {
        self.enforcer = enforcer
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard authenticated, case .admit(let admit) = unwrapInboundIn(data) else {
            return context.fireChannelRead(data)
        }
        guard let enforcer else {
            return Message.verdict(Verdict(requestID: admit.requestID, decision: .admit)).encodeFrame(into: &verdicts)
        }
        if let verdict = enforcer.immediateVerdict(for: admit) {
            return Message.verdict(verdict).encodeFrame(into: &verdicts)
        }
        // The session's lifetime spend is not in memory yet: read it, then answer on this loop.
        let loop = context.eventLoop
        let handler = NIOLoopBound(self, eventLoop: loop)
        Task {
            let verdict = await enforcer.verdict(for: admit)
            loop.execute { handler.value.send(verdict) }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flushVerdicts()
        context.fireChannelReadComplete()
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        guard event is LinkAuthenticated else {
            return context.triggerUserOutboundEvent(event, promise: promise)
        }
        authenticated = true
        promise?.succeed()
    }

    /// A VERDICT decided after the read it came in: written alone (the link may have closed meanwhile).
    private func send(_ verdict: Verdict) {
        Message.verdict(verdict).encodeFrame(into: &verdicts)
        flushVerdicts()
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
