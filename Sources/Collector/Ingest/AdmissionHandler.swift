import LedgerProtocol
import NIOCore

/// Answers ADMIT on the link's event loop, before the message reaches the async session loop: a verdict is a lock
/// and a few lookups, and the VERDICTs of one read go out with one flush. Only an ADMIT whose session spend must
/// first be read from the store (or one before WELCOME) travels on to the session loop.
final class AdmissionHandler: ChannelDuplexHandler {
    typealias InboundIn = Message
    typealias InboundOut = Message
    typealias OutboundIn = Message
    typealias OutboundOut = Message

    private let enforcer: Enforcer
    /// Set when the session loop writes WELCOME: only then may ADMITs be answered here.
    private var welcomed = false
    private var unflushed = false

    init(enforcer: Enforcer) {
        self.enforcer = enforcer
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if welcomed, case .admit(let admit) = unwrapInboundIn(data), let verdict = enforcer.immediateVerdict(for: admit) {
            context.write(wrapOutboundOut(.verdict(verdict)), promise: nil)
            unflushed = true
            return
        }
        context.fireChannelRead(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if unflushed {
            unflushed = false
            context.flush()
        }
        context.fireChannelReadComplete()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .welcome = unwrapOutboundIn(data) { welcomed = true }
        context.write(data, promise: promise)
    }
}
