import NIOCore

/// The whole pipeline of an agent connection accepted above `AGENTLEDGER_MAX_AGENT_CONNECTIONS`: it answers 503
/// at once, without reading a request, and closes. Accepting and answering (rather than leaving the connection in
/// the kernel's backlog) tells the agent why, in the JSON error shape its SDK parses, and SDKs retry a 503 with
/// backoff; a backlog would only look like a hung sidecar.
///
/// After the answer the write side is shut and what the agent still sends is read and dropped for at most
/// `linger`, so the agent reads the 503 instead of a reset that a close with unread bytes would cause.
final class ConnectionRefusal: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let answer: ByteBuffer
    private let linger: TimeAmount
    private var answered = false

    init(_ error: ProxyError, linger: TimeAmount = .seconds(1)) {
        answer = error.closingResponse
        self.linger = linger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { refuse(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        refuse(context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}

    private func refuse(_ context: ChannelHandlerContext) {
        guard !answered else { return }
        answered = true
        let channel = context.channel
        context.writeAndFlush(NIOAny(answer)).assumeIsolated().whenComplete { _ in
            channel.close(mode: .output, promise: nil)
        }
        channel.eventLoop.assumeIsolated().scheduleTask(in: linger) { channel.close(promise: nil) }
    }
}
