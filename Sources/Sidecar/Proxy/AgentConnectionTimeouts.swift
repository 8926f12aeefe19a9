import NIOCore

/// The deadlines of one agent connection (docs/operations.md, "Agent connections"). First in the pipeline, below
/// the HTTP codec, it sees every byte the agent sends; `ProxyConnectionHandler` tells it where each exchange is.
///
/// - No request under way: the connection is closed after `idle` (counted as an idle close).
/// - A request's first bytes arrived: its head must be complete within `head`, else a 408 and close.
/// - A request body is arriving: a pause longer than `body` between two reads sends `RequestBodyStalled` up the
///   pipeline; the proxy handler answers it (408 and close) unless it is itself holding reads back.
/// - The request has ended and the response is under way: no deadline here, however long an LLM stream runs (the
///   upstream's own head timeout applies on the other side).
///
/// One scheduled task at a time, moved lazily: a later deadline leaves the pending task in place and it re-arms
/// itself when it fires early, so a request costs about one timer, not one per state change.
final class AgentConnectionTimeouts: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    /// Sent up the pipeline when a request body has not moved for the body timeout.
    struct RequestBodyStalled {}

    enum State {
        /// Waiting for a request; nothing of it has arrived.
        case idle
        /// Bytes of a request head arrived; the head is not complete yet.
        case head
        /// The head is in; its body is arriving.
        case body
        /// The request has ended; its response is not over yet.
        case responding
        /// Timeouts no longer apply (a WebSocket tunnel, or the connection is closing).
        case off
    }

    private let head: TimeAmount
    private let body: TimeAmount
    private let idle: TimeAmount
    private let counters: SidecarCounters
    private var context: ChannelHandlerContext?
    private(set) var state = State.idle
    private var requestEnded = true
    private var responseEnded = true
    private var deadline: NIODeadline?
    private var lastRead = NIODeadline.now()
    private var timer: (task: Scheduled<Void>, at: NIODeadline)?

    init(configuration: ProxyConfiguration, counters: SidecarCounters) {
        head = .nanoseconds(configuration.requestHeadTimeout.micros * 1000)
        body = .nanoseconds(configuration.requestBodyTimeout.micros * 1000)
        idle = .nanoseconds(configuration.agentIdleTimeout.micros * 1000)
        self.counters = counters
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        enter(.idle, deadline: .now() + idle)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        stop()
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch state {
        case .idle:
            enter(.head, deadline: .now() + head)
        case .body:
            lastRead = .now()
        case .head, .responding, .off:
            break
        }
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        stop()
        context.fireChannelInactive()
    }

    // MARK: Told by the proxy handler

    /// A request head was parsed: its body (if any) comes next.
    func requestBegan() {
        guard state != .off else { return }
        requestEnded = false
        responseEnded = false
        lastRead = .now()
        enter(.body, deadline: lastRead + body)
    }

    /// The request's last byte was read.
    func requestFinished() {
        guard state != .off else { return }
        requestEnded = true
        if responseEnded { waitForNextRequest() } else { enter(.responding, deadline: nil) }
    }

    /// The response's last byte was written.
    func responseFinished() {
        guard state != .off else { return }
        responseEnded = true
        if requestEnded { waitForNextRequest() }
    }

    /// The body is not read because the proxy holds reads back (the upstream is slow, not the agent): the pause
    /// starts again.
    func bodyHeldBack() {
        lastRead = .now()
    }

    /// No more deadlines on this connection.
    func stop() {
        state = .off
        deadline = nil
        timer?.task.cancel()
        timer = nil
    }

    // MARK: Deadlines

    private func waitForNextRequest() {
        enter(.idle, deadline: .now() + idle)
    }

    private func enter(_ next: State, deadline: NIODeadline?) {
        state = next
        self.deadline = deadline
        guard let deadline, let context else { return }
        if let timer {
            if timer.at <= deadline { return }
            timer.task.cancel()
        }
        arm(at: deadline, on: context.eventLoop)
    }

    private func arm(at when: NIODeadline, on eventLoop: any EventLoop) {
        let task = eventLoop.assumeIsolated().scheduleTask(deadline: when) { [self] in
            timer = nil
            fired()
        }
        timer = (task, when)
    }

    private func fired() {
        guard let context, let deadline else { return }
        let now = NIODeadline.now()
        if state == .body, lastRead + body > deadline {
            self.deadline = lastRead + body
        }
        if let pending = self.deadline, pending > now { return arm(at: pending, on: context.eventLoop) }
        switch state {
        case .idle:
            counters.add(.agentIdleClosed)
            stop()
            context.close(promise: nil)
        case .head:
            counters.add(.requestHeadTimeouts)
            stop()
            let error = ProxyError.requestTimeout("the request head did not arrive within \(head.wholeSeconds) s")
            context.writeAndFlush(NIOAny(error.closingResponse)).assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
        case .body:
            lastRead = now
            self.deadline = now + body
            arm(at: now + body, on: context.eventLoop)
            context.fireUserInboundEventTriggered(RequestBodyStalled())
        case .responding, .off:
            break
        }
    }
}

extension TimeAmount {
    /// Whole seconds, for messages (at least 1 for anything shorter: "within 0 s" would read as a bug).
    var wholeSeconds: Int64 { max(1, nanoseconds / 1_000_000_000) }
}
