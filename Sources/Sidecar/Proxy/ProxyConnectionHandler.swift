import LedgerProtocol
import Logging
import NIOCore
import NIOHTTP1

/// One agent connection: forwards each request to the upstream over a pooled connection on the same event loop
/// and streams the answer back byte for byte. For captured LLM paths it also builds the record of the exchange
/// (`CaptureTap`) and ships it once the response has ended, however it ended.
///
/// `HTTPServerPipelineHandler` (in front) hands over one request at a time and holds the next until the response
/// to this one has ended, so the handler keeps the state of a single exchange.
final class ProxyConnectionHandler: ChannelDuplexHandler, RemovableChannelHandler, UpstreamExchange {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    enum Phase {
        case idle
        /// Reading a captured request's body before it goes upstream.
        case collecting
        /// Waiting for the collector's verdict.
        case admitting
        /// Upstream connection asked for; request on its way; response flowing back.
        case forwarding
        /// Answered locally (an error, metrics): the rest of the request is read and dropped.
        case answered
    }

    let core: ProxyCore
    private let pool: UpstreamPool
    /// The connection's deadlines, told where each exchange is.
    let timeouts: AgentConnectionTimeouts
    /// `agentledger up`: the dashboard and API paths, and the pool of connections to the in-process server.
    let local: (routes: LocalRoutes, pool: UpstreamPool)?
    /// The pool of the current exchange's connection.
    var activePool: UpstreamPool
    var context: ChannelHandlerContext?

    var phase = Phase.idle
    /// Tells an exchange apart from a later one on the same connection, for callbacks that arrive late.
    var generation: UInt64 = 0
    var requestHead = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/")
    private var outboundHead = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/")
    private var started = ContinuousClock.now
    private var path: Substring = ""
    private var metadata = CallMetadata()
    private var keptHeaders: [HeaderField] = []
    var body = ByteBuffer()
    /// Bytes of the shared body budget (`AgentLoad`) this connection holds for `body`.
    var bodyCharge = 0
    /// Parts of a streamed (uncaptured) request that arrived before the upstream connection.
    var pendingParts: [HTTPClientRequestPart] = []
    var requestEnded = false
    var tap: CaptureTap?
    private var filter: UsageChunkFilter?
    var upstream: UpstreamConnection? {
        // A read held for a streamed request body is released with the upstream it waited on (one that answered
        // before the upload ended, or failed), so the rest of the request is read and dropped.
        didSet {
            if upstream == nil && readHeld {
                readHeld = false
                context?.read()
            }
        }
    }
    var responseStarted = false
    var closeAfterResponse = false
    /// Waits for the upstream: for its response head, then for each next byte of the response (`watchForStall`).
    var upstreamTimer: Scheduled<Void>?
    /// When the upstream last sent part of the response.
    var lastUpstreamBytes = NIODeadline.now()
    /// A `read` held back while the upstream cannot take more of a streamed request body.
    var readHeld = false

    init(
        core: ProxyCore, pool: UpstreamPool, timeouts: AgentConnectionTimeouts,
        local: (routes: LocalRoutes, pool: UpstreamPool)? = nil
    ) {
        self.core = core
        self.pool = pool
        self.timeouts = timeouts
        self.local = local
        activePool = pool
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    // MARK: The agent's request

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): begin(head)
        case .body(let buffer): received(buffer)
        case .end: requestFinished()
        }
    }

    private func begin(_ head: HTTPRequestHead) {
        generation &+= 1
        timeouts.requestBegan()
        phase = .idle
        requestHead = head
        started = .now
        requestEnded = false
        responseStarted = false
        closeAfterResponse = !head.isKeepAlive || head.version.major == 1 && head.version.minor == 0
        tap = nil
        filter = nil
        body = ByteBuffer()
        releaseBody()
        pendingParts = []
        metadata = CallMetadata()
        keptHeaders = []
        activePool = pool

        path = CapturedPaths.path(of: head.uri)
        if core.servesMetrics && head.method == .GET && path == SidecarMetrics.path {
            return answer(
                status: .ok, headers: ["content-type": "text/plain; version=0.0.4"], body: ByteBuffer(string: core.metricsText()))
        }
        if let local, local.routes.owns(path) { return forwardLocally(head, to: local.pool) }
        let captured = CapturedPaths.captures(method: head.method.rawValue, path: path)
        let declaredLength = head.headers.first(name: "content-length").flatMap { Int($0) }
        if let declaredLength, declaredLength > core.configuration.maxBodyBytes {
            core.shipper.counters.add(.bodyTooLarge)
            return answer(ProxyError.bodyTooLarge(limit: core.configuration.maxBodyBytes))
        }

        (outboundHead, keptHeaders) = ProxyHeads.upstream(
            head, address: core.address, captured: captured, metadata: &metadata)
        guard captured else {
            ProxyHeads.addStreamedFraming(of: head, to: &outboundHead)
            phase = .forwarding
            pendingParts.append(.head(outboundHead))
            connectUpstream()
            return
        }
        if core.configuration.refuseWhenCollectorDown && !core.shipper.isLinkReady {
            core.shipper.counters.add(.refusedCollectorDown)
            return answer(ProxyError.collectorUnavailable)
        }
        phase = .collecting
        if let declaredLength {
            guard reserveBody(declaredLength) else { return }
            body.reserveCapacity(declaredLength)
        }
    }

    private func received(_ buffer: ByteBuffer) {
        switch phase {
        case .collecting:
            collect(buffer)
        case .forwarding where tap == nil:
            if let upstream, pendingParts.isEmpty {
                upstream.write(.body(.byteBuffer(buffer)), flush: false)
            } else {
                pendingParts.append(.body(.byteBuffer(buffer)))
            }
        default:
            break
        }
    }

    private func requestFinished() {
        requestEnded = true
        timeouts.requestFinished()
        switch phase {
        case .collecting:
            forwardCaptured()
        case .forwarding where tap == nil:
            if let upstream, pendingParts.isEmpty {
                upstream.write(.end(nil), flush: true)
            } else {
                pendingParts.append(.end(nil))
            }
        default:
            break
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if phase == .forwarding, tap == nil, pendingParts.isEmpty { upstream?.flush() }
        context.fireChannelReadComplete()
    }

    // MARK: Captured calls

    private func forwardCaptured() {
        let withUsage = path == CapturedPaths.openAIChat ? UsageInjection.inject(into: body) : nil
        let call = CapturedCall(
            actionID: ActionID.make(), arrivedAtMicros: WallClock.nowMicros() - (ContinuousClock.now - started).micros,
            method: requestHead.method.rawValue, path: RecordedTarget.scrubbed(requestHead.uri),
            source: core.configuration.source, metadata: metadata,
            requestHeaders: keptHeaders, requestBody: Array(body.readableBytesView), usageInjected: withUsage != nil)
        tap = CaptureTap(call: call, started: started, limit: core.configuration.maxCapturedResponseBytes)
        let forwarded = withUsage ?? body
        outboundHead.headers.add(name: "content-length", value: String(forwarded.readableBytes))
        pendingParts = [.head(outboundHead), .body(.byteBuffer(forwarded)), .end(nil)]
        body = ByteBuffer()
        // Read whole: the body now travels as the call's record and the forwarded request.
        releaseBody()
        guard core.admission.isRequired, let context else {
            phase = .forwarding
            return connectUpstream()
        }
        admit(call, body: forwarded, on: context)
    }

    // MARK: The upstream

    func connectUpstream() {
        guard let context else { return }
        let generation = self.generation
        let pool = activePool
        pool.acquire { [self] result in
            guard generation == self.generation, phase == .forwarding, self.context != nil else {
                if case .success(let connection) = result { pool.release(connection) }
                return
            }
            switch result {
            case .success(let connection):
                send(on: connection)
            case .failure(let error):
                unreachable(UpstreamFailure(error), connected: false)
            }
        }
        let timeout = core.configuration.upstreamHeadTimeout
        upstreamTimer = context.eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(timeout.micros * 1000)) {
            [self] in
            guard generation == self.generation, !responseStarted else { return }
            let seconds = timeout.components.seconds
            if let upstream {
                upstream.fail(UpstreamFailure("no response within \(seconds) s"))
            } else {
                phase = .idle
                unreachable(UpstreamFailure("no connection within \(seconds) s"), connected: false)
            }
        }
    }

    private func send(on connection: UpstreamConnection) {
        upstream = connection
        connection.begin(self)
        if context?.channel.isWritable == false { connection.pauseReading() }
        let parts = pendingParts
        pendingParts = []
        for (index, part) in parts.enumerated() {
            connection.write(part, flush: index == parts.count - 1)
        }
        // A read held until there was an upstream to take the body goes on once it can take more.
        upstreamWritabilityChanged(connection.isWritable)
    }

    /// No response could be had: 502 naming the upstream (`scheme://host:port`) and what failed, and for a
    /// captured call a record saying so. `connected`: a connection was made, the answer never came.
    private func unreachable(_ failure: UpstreamFailure, connected: Bool) {
        core.shipper.counters.add(.upstreamUnreachable)
        let upstreamName = activePool === pool ? "upstream \(core.address.origin)" : "the dashboard server"
        let message =
            connected
            ? "\(upstreamName) gave no response: \(failure.reason)" : "could not connect to \(upstreamName): \(failure.reason)"
        var metadata: Logger.Metadata = ["upstream": "\(core.address.origin)", "reason": "\(failure.reason)"]
        if activePool !== pool { metadata["upstream"] = "dashboard server" }
        if let cause = failure.cause { metadata["cause"] = "\(cause)" }
        core.logger.warning("upstream unreachable", metadata: metadata)
        upstream = nil
        answer(ProxyError.upstreamUnreachable(message), outcome: .upstreamUnreachable)
    }

    func upstreamHead(_ head: HTTPResponseHead) {
        upstreamTimer?.cancel()
        responseStarted = true
        watchForStall(since: .now())
        tap?.responded(status: head.status.code, headers: head.headers)
        let response = ProxyHeads.response(
            to: head, version: requestHead.version, call: tap?.call, closeAfter: &closeAfterResponse)
        if response.filtersUsage { filter = UsageChunkFilter() }
        context?.write(wrapOutboundOut(.head(response.head)), promise: nil)
    }

    func upstreamBody(_ buffer: ByteBuffer) {
        lastUpstreamBytes = .now()
        tap?.received(buffer)
        guard let context else { return }
        if filter != nil {
            let kept = filter!.process(buffer)
            if !kept.isEmpty { context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: kept)))), promise: nil) }
        } else {
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        }
    }

    func upstreamReadComplete() {
        context?.flush()
    }

    func upstreamEnd() {
        guard let context else { return }
        if filter != nil {
            let rest = filter!.finish()
            if !rest.isEmpty { context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: rest)))), promise: nil) }
        }
        upstreamTimer?.cancel()
        ship(.completed, detail: nil)
        let connection = upstream
        upstream = nil
        phase = .idle
        endResponse(context)
        if let connection { activePool.release(connection) }
    }

    func upstreamFailed(_ failure: UpstreamFailure) {
        upstream = nil
        guard phase == .forwarding else { return }
        upstreamTimer?.cancel()
        guard responseStarted else { return unreachable(failure, connected: true) }
        core.logger.info(
            "upstream failed mid-response",
            metadata: ["upstream": "\(core.address.origin)", "reason": "\(failure.reason)", "cause": "\(failure.cause ?? "-")"])
        ship(.upstreamFailed, detail: "upstream \(core.address.origin) failed mid-response: \(failure.reason)")
        phase = .idle
        // The agent gets what arrived, then the connection ends, as a direct call would.
        context?.flush()
        context?.close(promise: nil)
    }

    func upstreamWritabilityChanged(_ writable: Bool) {
        guard writable, readHeld, let context else { return }
        readHeld = false
        context.read()
    }

    // MARK: The agent's side of the connection

    /// A streamed request body is read only as fast as the upstream takes it, and not before there is an upstream.
    func read(context: ChannelHandlerContext) {
        if phase == .forwarding, tap == nil, !requestEnded, upstream?.isWritable != true {
            readHeld = true
        } else {
            context.read()
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            upstream?.resumeReading()
        } else {
            upstream?.pauseReading()
        }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        upstreamTimer?.cancel()
        body = ByteBuffer()
        releaseBody()
        if phase == .forwarding || phase == .admitting {
            ship(.clientDisconnected, detail: "client disconnected before the response ended")
            upstream?.abandon()
            upstream = nil
        }
        phase = .idle
        generation &+= 1
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        core.logger.debug("agent connection error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }
}
