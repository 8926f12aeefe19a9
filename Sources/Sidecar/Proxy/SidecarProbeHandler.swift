import NIOCore
import NIOHTTP1

/// Answers the sidecar's probes (`SidecarProbe`) on an agent connection, between the HTTP codec and the proxy
/// handler: a probe request never reaches the proxy or the upstream, every other request passes through untouched.
///
/// The pipelining handler below it hands up one request at a time, so at most one probe is pending; a probe's
/// body (probes have none, but a client may send one) is read and dropped, never held. The connection's deadlines
/// (`AgentConnectionTimeouts`) are told of a probe as of any request. A WebSocket handshake takes the handler out
/// of the pipeline: the connection may become a byte tunnel (`UpgradeTunnel`), where there are no requests left.
final class SidecarProbeHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let core: ProxyCore
    private let timeouts: AgentConnectionTimeouts
    /// The probe whose request is being read, with its head.
    private var pending: (probe: SidecarProbe, head: HTTPRequestHead)?

    init(core: ProxyCore, timeouts: AgentConnectionTimeouts) {
        self.core = core
        self.timeouts = timeouts
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            if let probe = SidecarProbe(path: CapturedPaths.path(of: head.uri)) {
                pending = (probe, head)
                timeouts.requestBegan()
                return
            }
            context.fireChannelRead(data)
            if head.headers.contains(name: "upgrade") {
                context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            }
        case .body:
            if pending == nil { context.fireChannelRead(data) }
        case .end:
            guard let (probe, head) = pending else { return context.fireChannelRead(data) }
            pending = nil
            timeouts.requestFinished()
            answer(probe, to: head, context: context)
        }
    }

    private func answer(_ probe: SidecarProbe, to request: HTTPRequestHead, context: ChannelHandlerContext) {
        let answer = probe.answer(
            method: request.method, refusesWhenCollectorDown: core.configuration.refuseWhenCollectorDown,
            linkReady: core.shipper.isLinkReady)
        let body = ByteBuffer(string: answer.body)
        var head = HTTPResponseHead(version: request.version, status: answer.status)
        head.headers.add(name: "content-type", value: "application/json")
        head.headers.add(name: "content-length", value: String(body.readableBytes))
        head.headers.add(name: "cache-control", value: "no-store")
        if answer.status == .methodNotAllowed { head.headers.add(name: "allow", value: "GET, HEAD") }
        let keepAlive = request.isKeepAlive
        if !keepAlive { head.headers.add(name: "connection", value: "close") }
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if request.method != .HEAD { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
        let timeouts = self.timeouts
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
            timeouts.responseFinished()
            if !keepAlive { context.close(promise: nil) }
        }
    }
}
