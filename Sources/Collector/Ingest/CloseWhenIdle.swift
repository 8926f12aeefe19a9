import NIOCore

/// Closes a link when `IdleStateHandler` reports that nothing was read for its timeout, and counts it.
///
/// Both sit after the frame decoder, so only whole frames count as reads: a peer trickling a frame a byte at a time
/// is closed once no frame has completed for the timeout (docs/operations.md, "Ingest link").
final class CloseWhenIdle: ChannelInboundHandler, Sendable {
    typealias InboundIn = NIOAny

    private let counters: CollectorCounters

    init(counters: CollectorCounters) {
        self.counters = counters
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            counters.add(.ingestIdleClosed)
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}
