import LedgerProtocol
import Logging
import NIOCore
import NIOHTTP1

/// One agent connection: forwards each request to the upstream over a pooled connection on the same event loop
/// and streams the answer back byte for byte. For captured LLM paths it also ships the record of the exchange once
/// the response has ended, however it ended.
///
/// What to do is decided by `ProxyExchange`, a state machine without I/O; this handler feeds it every event (the
/// agent's request parts, the upstream's callbacks, verdicts, timers) and carries out the action it returns.
final class ProxyConnectionHandler: ChannelDuplexHandler, RemovableChannelHandler, UpstreamExchange {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart
    typealias Exchange = ProxyExchange<UpstreamConnection>

    let core: ProxyCore
    private let pool: UpstreamPool
    /// The connection's deadlines, told where each exchange is.
    let timeouts: AgentConnectionTimeouts
    /// `agentledger up`: the dashboard and API paths, and the pool of connections to the in-process server.
    let local: (routes: LocalRoutes, pool: UpstreamPool)?
    var context: ChannelHandlerContext?
    /// Where the connection's current exchange is; every event goes through it.
    var exchange: Exchange
    /// The upstream timer of the current exchange (`ProxyExchange.UpstreamTimer`): one at a time.
    private var upstreamTimer: Scheduled<Void>?

    init(
        core: ProxyCore, pool: UpstreamPool, timeouts: AgentConnectionTimeouts,
        local: (routes: LocalRoutes, pool: UpstreamPool)? = nil
    ) {
        self.core = core
        self.pool = pool
        self.timeouts = timeouts
        self.local = local
        exchange = Exchange(settings: ProxyExchangeSettings(core))
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    // MARK: Events of the agent's connection

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            timeouts.requestBegan()
            run(exchange.requestHead(plan(for: head), version: head.version, keepAlive: head.isKeepAlive, now: .now()))
        case .body(let buffer):
            run(exchange.requestBodyPart(buffer))
        case .end:
            timeouts.requestFinished()
            run(exchange.requestEnded(admissionRequired: core.admission.isRequired, now: .now()))
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        run(exchange.requestReadComplete())
        context.fireChannelReadComplete()
    }

    func read(context: ChannelHandlerContext) {
        run(exchange.readRequested())
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        run(exchange.agentWritabilityChanged(context.channel.isWritable))
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        run(exchange.channelInactive())
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is AgentConnectionTimeouts.RequestBodyStalled { return run(exchange.requestBodyStalled()) }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        core.logger.debug("agent connection error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    // MARK: Events of the upstream connection (`UpstreamExchange`)

    func upstreamHead(_ head: HTTPResponseHead) {
        run(exchange.upstreamHead(head, now: .now()))
    }

    func upstreamBody(_ buffer: ByteBuffer) {
        run(exchange.upstreamBodyPart(buffer, now: .now()))
    }

    func upstreamReadComplete() {
        context?.flush()
    }

    func upstreamEnd() {
        run(exchange.upstreamEnded())
    }

    func upstreamFailed(_ failure: UpstreamFailure) {
        run(exchange.upstreamFailed(failure))
    }

    func upstreamWritabilityChanged(_ writable: Bool) {
        run(exchange.upstreamWritabilityChanged(writable))
    }

    // MARK: Carrying out actions

    /// Carries out what the exchange decided. An action may lead to another event at once (a pool with an idle
    /// connection answers in `acquire`); the exchange has already moved on by then, so that event sees its new state.
    func run(_ action: consuming Exchange.Action) {
        // Consumed: the payloads (a record, request parts) are moved to where they go, not copied out and released.
        switch consume action {
        case .none:
            break
        case .read:
            context?.read()
        case .restartBodyDeadline:
            timeouts.bodyHeldBack()
        case .answer(let answer):
            write(answer)
        case .askAdmission(let request):
            askAdmission(request)
        case .acquireUpstream(let route, let timer, let incident):
            if let incident { report(incident) }
            // Armed first: a pool that answers at once (an idle connection, a closed pool) acts on a running timer.
            schedule(timer)
            acquire(from: route, for: timer.exchange)
        case .sendRequest(let upstream, let parts, let pauseReading):
            upstream.begin(self)
            if pauseReading { upstream.pauseReading() }
            for (index, part) in parts.enumerated() {
                upstream.write(part, flush: index == parts.count - 1)
            }
            // A read held until there was an upstream to take the body goes on once it can take more.
            run(exchange.upstreamWritabilityChanged(upstream.isWritable))
        case .abandonUpstream(let upstream):
            upstream.abandon()
        case .writeToUpstream(let upstream, let part, let flush):
            upstream.write(part, flush: flush)
        case .flushUpstream(let upstream):
            upstream.flush()
        case .pauseUpstreamReading(let upstream):
            upstream.pauseReading()
        case .resumeUpstreamReading(let upstream):
            upstream.resumeReading()
        case .failUpstream(let upstream, let failure):
            upstream.fail(failure)
        case .writeResponseHead(let head, let stallCheck):
            schedule(stallCheck)
            context?.write(wrapOutboundOut(.head(head)), promise: nil)
        case .writeToAgent(let buffer):
            context?.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        case .finishResponse(let finished):
            finish(finished)
        case .cutResponse(let record, let incident, let resumesReading):
            cancelUpstreamTimer()
            report(incident)
            ship(record)
            if resumesReading { context?.read() }
            // The agent gets what arrived, then the connection ends, as a direct call would.
            context?.flush()
            context?.close(promise: nil)
        case .close(let incident):
            report(incident)
            context?.close(promise: nil)
        case .scheduleUpstreamTimer(let timer):
            schedule(timer)
        case .openTunnel(let head):
            tunnel(head)
        case .stop(let record, let upstream):
            cancelUpstreamTimer()
            ship(record)
            upstream?.abandon()
        }
    }

    private func write(_ answer: Exchange.Answer) {
        cancelUpstreamTimer()
        answer.abandoning?.abandon()
        if let incident = answer.incident { report(incident) }
        ship(answer.record)
        if answer.resumesReading { context?.read() }
        guard let context else { return }
        context.write(wrapOutboundOut(.head(answer.head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(answer.body))), promise: nil)
        endResponse(closingConnection: answer.closesConnection)
    }

    private func finish(_ finished: Exchange.FinishedResponse) {
        if let tail = finished.tail { context?.write(wrapOutboundOut(.body(.byteBuffer(tail))), promise: nil) }
        cancelUpstreamTimer()
        ship(finished.record)
        if finished.resumesReading { context?.read() }
        endResponse(closingConnection: finished.closesConnection)
        pool(for: finished.route).release(finished.upstream)
    }

    /// Ends the response; the connection closes once it is written when `closingConnection`.
    private func endResponse(closingConnection: Bool) {
        guard let context else { return }
        timeouts.responseFinished()
        guard closingConnection else {
            return context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }

    private func ship(_ record: CapturedCall?) {
        if let record { core.shipper.ship(record) }
    }

    private func pool(for route: UpstreamRoute) -> UpstreamPool {
        switch route {
        case .upstream: pool
        case .local: local?.pool ?? pool
        }
    }

    /// Asks `route`'s pool for a connection; the answer goes to the exchange as one for `id`.
    private func acquire(from route: UpstreamRoute, for id: ExchangeID) {
        pool(for: route).acquire { [self] result in
            switch result {
            case .success(let connection): run(exchange.upstreamConnected(connection, for: id))
            case .failure(let error): run(exchange.upstreamConnectFailed(UpstreamFailure(error), for: id))
            }
        }
    }

    /// Replaces the upstream timer with one for `timer`.
    private func schedule(_ timer: Exchange.UpstreamTimer) {
        upstreamTimer?.cancel()
        guard let context else { return }
        upstreamTimer = context.eventLoop.assumeIsolated().scheduleTask(deadline: timer.deadline) { [self] in
            upstreamTimer = nil
            run(exchange.upstreamTimerFired(for: timer.exchange, now: .now()))
        }
    }

    private func cancelUpstreamTimer() {
        upstreamTimer?.cancel()
        upstreamTimer = nil
    }
}

extension ProxyExchangeSettings {
    /// The settings of `core`'s proxy.
    init(_ core: ProxyCore) {
        let configuration = core.configuration
        self.init(
            maxBodyBytes: configuration.maxBodyBytes, maxCapturedResponseBytes: configuration.maxCapturedResponseBytes,
            source: configuration.source, upstreamOrigin: core.address.origin,
            upstreamHeadTimeout: configuration.upstreamHeadTimeout, requestBodyTimeout: configuration.requestBodyTimeout,
            upstreamStallTimeout: configuration.upstreamStallTimeout,
            refuseWhenCollectorDown: configuration.refuseWhenCollectorDown, bodies: core.load)
    }
}
