import NIOCore
import NIOHTTP1
import NIOPosix

/// Carries a WebSocket upgrade to the in-process server of `agentledger up` (the dashboard's live feed): the
/// handshake goes to the backend, its answer to the agent, and after a `101` the two connections are joined byte
/// for byte (`TunnelGlue`), with every HTTP handler gone from both pipelines.
enum UpgradeTunnel {
    /// Connects to `address` on `eventLoop`, sends `head`, and returns the backend's answer with its channel.
    static func handshake(
        _ head: HTTPRequestHead, to address: UpstreamAddress, on eventLoop: any EventLoop
    ) -> EventLoopFuture<(HTTPResponseHead, any Channel)> {
        let answered = eventLoop.makePromise(of: HTTPResponseHead.self)
        let connected = ClientBootstrap(group: eventLoop)
            .connectTimeout(.seconds(10))
            .channelInitializer { backend in
                backend.eventLoop.makeCompletedFuture {
                    try backend.pipeline.syncOperations.addHandlers([
                        HTTPRequestEncoder(), ByteToMessageHandler(HTTPResponseDecoder(leftOverBytesStrategy: .forwardBytes)),
                        HandshakeCatcher(answered: answered),
                    ])
                }
            }
            .connect(host: address.host, port: address.port)
        connected.whenFailure { answered.fail($0) }
        return connected.flatMap { backend in
            backend.write(HTTPClientRequestPart.head(head), promise: nil)
            backend.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
            return answered.futureResult.map { ($0, backend) }
        }
    }

    /// After the `101` went to the agent: removes the HTTP handlers of both pipelines, `handler` (the agent side's
    /// proxy handler) included, and joins the two channels.
    static func join(agent context: ChannelHandlerContext, removing handler: any RemovableChannelHandler, backend: any Channel)
        throws
    {
        let (agentEnd, backendEnd) = TunnelGlue.pair()
        let agent = context.pipeline.syncOperations
        try agent.addHandler(agentEnd)
        agent.removeHandler(handler, promise: nil)
        let helpers: [any ChannelHandler.Type] = [
            HTTPServerPipelineHandler.self, HTTPServerProtocolErrorHandler.self, NIOHTTPResponseHeadersValidator.self,
        ]
        for type in helpers {
            if let found = try? agent.context(handlerType: type) { agent.removeHandler(context: found, promise: nil) }
        }
        agent.removeHandler(context: try agent.context(handlerType: ByteToMessageHandler<HTTPRequestDecoder>.self), promise: nil)
        agent.removeHandler(context: try agent.context(handlerType: HTTPResponseEncoder.self), promise: nil)
        // The pipelining handler held back reads while the handshake was answered; that read went with it.
        context.channel.read()

        let operations = backend.pipeline.syncOperations
        try operations.addHandler(backendEnd)
        // The decoder goes after the catcher: on removal it hands bytes that followed the 101 on to the glue.
        operations.removeHandler(context: try operations.context(handlerType: HandshakeCatcher.self), promise: nil)
        operations.removeHandler(
            context: try operations.context(handlerType: ByteToMessageHandler<HTTPResponseDecoder>.self), promise: nil)
        operations.removeHandler(context: try operations.context(handlerType: HTTPRequestEncoder.self), promise: nil)
    }
}

/// Reads the backend's answer to a forwarded upgrade request.
private final class HandshakeCatcher: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart

    private var answered: EventLoopPromise<HTTPResponseHead>?

    init(answered: EventLoopPromise<HTTPResponseHead>) {
        self.answered = answered
    }

    private func complete(_ result: Result<HTTPResponseHead, any Error>) {
        answered?.completeWith(result)
        answered = nil
    }

    private var head: HTTPResponseHead?

    /// Answers at the end of the response, so no part of it is left in the decoder when the tunnel takes over.
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): self.head = head
        case .body: break
        case .end: if let head { complete(.success(head)) }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        complete(.failure(ChannelError.eof))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        complete(.failure(error))
        context.close(promise: nil)
    }
}
