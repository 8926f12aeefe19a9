import NIOCore
import NIOHTTP1

/// `up`'s dashboard and API paths: forwarded to the in-process server, uncaptured; a WebSocket handshake is relayed
/// there and the connection then becomes a tunnel.
extension ProxyConnectionHandler {
    /// A dashboard or API request in `up`: to the in-process server, as the agent sent it but for hop-by-hop headers.
    func forwardLocally(_ head: HTTPRequestHead, to localPool: UpstreamPool) {
        if head.headers.first(name: "upgrade")?.lowercased() == "websocket", let local { return tunnel(head, to: local.routes) }
        activePool = localPool
        phase = .forwarding
        pendingParts.append(.head(ProxyHeads.local(head)))
        connectUpstream()
    }

    /// A WebSocket handshake for the in-process server: sent there as it came; after its `101` the connection is
    /// a byte tunnel and this handler leaves the pipeline.
    func tunnel(_ head: HTTPRequestHead, to routes: LocalRoutes) {
        guard let context else { return }
        phase = .answered
        var outbound = head
        outbound.version = .http1_1
        let handshake = UpgradeTunnel.handshake(outbound, to: routes.address, on: context.eventLoop).assumeIsolated()
        handshake.whenSuccess { [self] reply, backend in
            guard let context = self.context else { return backend.close(promise: nil) }
            guard reply.status == .switchingProtocols else {
                backend.close(promise: nil)
                closeAfterResponse = true
                return answer(status: reply.status, headers: [:], body: ByteBuffer())
            }
            context.writeAndFlush(wrapOutboundOut(.head(reply))).assumeIsolated().whenComplete { result in
                do {
                    try result.get()
                    // A tunnel lasts as long as its WebSocket: no request deadlines apply any more.
                    self.timeouts.stop()
                    try UpgradeTunnel.join(agent: context, removing: self, backend: backend)
                } catch {
                    backend.close(promise: nil)
                    context.close(promise: nil)
                }
            }
        }
        handshake.whenFailure { [self] error in
            closeAfterResponse = true
            answer(
                ProxyError.upstreamUnreachable("could not connect to the dashboard server: \(UpstreamFailure.words(for: error))"))
        }
    }
}
