import NIOCore
import NIOHTTP1

/// What an upstream connection reports to the exchange it carries; all calls arrive on the connection's event
/// loop, which is also the agent connection's.
protocol UpstreamExchange: AnyObject {
    func upstreamHead(_ head: HTTPResponseHead)
    func upstreamBody(_ buffer: ByteBuffer)
    /// A read burst ended: the moment to flush what was written to the agent.
    func upstreamReadComplete()
    func upstreamEnd()
    /// The connection closed or failed before the response ended.
    func upstreamFailed(_ failure: UpstreamFailure)
    func upstreamWritabilityChanged(_ writable: Bool)
}

/// One keep-alive HTTP/1.1 connection to the upstream, the last handler of its pipeline. It carries one exchange
/// at a time; between exchanges it waits in its loop's `UpstreamPool`. Reading pauses while the agent cannot take
/// more bytes, so a slow agent slows the upstream instead of filling memory.
final class UpstreamConnection: ChannelDuplexHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = HTTPClientRequestPart

    private var context: ChannelHandlerContext?
    private var exchange: (any UpstreamExchange)?
    private var paused = false
    private var readHeld = false
    /// The response of the current exchange may leave the connection open for the next one.
    private var responseKeepsAlive = true
    private var requestEnded = false
    private var failure: UpstreamFailure?
    /// When it last went back to the pool, for closing connections idle too long.
    var idleSince = NIODeadline.now()
    /// Set by the pool; told when an idle connection closes.
    var onIdleClose: ((UpstreamConnection) -> Void)?

    var isActive: Bool { context?.channel.isActive ?? false }
    var isWritable: Bool { context?.channel.isWritable ?? false }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    /// Starts an exchange: `exchange` gets every event until the response ends or the connection fails.
    func begin(_ exchange: any UpstreamExchange) {
        self.exchange = exchange
        responseKeepsAlive = true
        requestEnded = false
        // The last exchange may have ended while its agent could take no more: its held read is this one's.
        resumeReading()
    }

    /// Writes a request part; `flush` sends what was written so far.
    func write(_ part: HTTPClientRequestPart, flush: Bool) {
        guard let context else { return }
        if case .end = part { requestEnded = true }
        context.write(wrapOutboundOut(part), promise: nil)
        if flush { context.flush() }
    }

    func flush() {
        context?.flush()
    }

    /// The response ended and the request was sent whole, on a connection both sides keep open.
    var isReusable: Bool { responseKeepsAlive && requestEnded && isActive && exchange == nil }

    /// Ends the exchange without telling it, and closes: the exchange is over for its own reasons.
    func abandon() {
        exchange = nil
        context?.close(promise: nil)
    }

    /// Closes the connection; the exchange hears `upstreamFailed(failure)`.
    func fail(_ failure: UpstreamFailure) {
        self.failure = self.failure ?? failure
        context?.close(promise: nil)
    }

    func pauseReading() {
        paused = true
    }

    func resumeReading() {
        guard paused else { return }
        paused = false
        if readHeld, let context {
            readHeld = false
            context.read()
        }
    }

    func read(context: ChannelHandlerContext) {
        if paused {
            readHeld = true
        } else {
            context.read()
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            responseKeepsAlive = head.isKeepAlive
            exchange?.upstreamHead(head)
        case .body(let buffer):
            exchange?.upstreamBody(buffer)
        case .end:
            let finished = exchange
            exchange = nil
            // Idle in the pool it reads again, so an upstream that closes it is noticed at once.
            resumeReading()
            finished?.upstreamEnd()
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        exchange?.upstreamReadComplete()
        context.fireChannelReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        exchange?.upstreamWritabilityChanged(context.channel.isWritable)
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let failed = exchange {
            exchange = nil
            failed.upstreamFailed(failure ?? UpstreamFailure("the upstream closed the connection"))
        } else {
            onIdleClose?(self)
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failure = failure ?? UpstreamFailure(error)
        context.close(promise: nil)
    }
}
