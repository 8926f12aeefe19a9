import NIOCore

/// The bounds of an agent connection that need the exchange's state (docs/operations.md, "Agent connections"):
/// the request-body memory shared by every connection, and the answer to a body that stopped arriving.
extension ProxyConnectionHandler {
    /// Appends a chunk of a captured request's body. Room in the shared budget is taken before the buffer grows,
    /// so what the budget counts is what is allocated.
    func collect(_ buffer: ByteBuffer) {
        let limit = core.configuration.maxBodyBytes
        let (needed, overflow) = body.readableBytes.addingReportingOverflow(buffer.readableBytes)
        guard !overflow, needed <= limit else {
            core.shipper.counters.add(.bodyTooLarge)
            return answer(ProxyError.bodyTooLarge(limit: limit))
        }
        if needed > body.capacity {
            // Doubling, as ByteBuffer would grow, but never past the body limit.
            let doubled = body.capacity > limit / 2 ? limit : body.capacity * 2
            let grown = min(max(needed, doubled), limit)
            guard reserveBody(grown) else { return }
            body.reserveCapacity(grown)
        }
        var buffer = buffer
        body.writeBuffer(&buffer)
    }

    /// Holds room for `total` bytes of this request's body in the shared budget (what is held already counts).
    /// When there is no room: 503, the connection closes, and the result is false.
    func reserveBody(_ total: Int) -> Bool {
        guard total > bodyCharge else { return true }
        guard core.load.reserveBody(total - bodyCharge) else {
            core.shipper.counters.add(.bodyBufferFull)
            core.logger.warning(
                "request refused: request bodies in memory at their limit",
                metadata: ["limit_bytes": "\(core.load.maxBufferedBytes)", "body_bytes": "\(total)"])
            closeAfterResponse = true
            answer(ProxyError.bodyBufferFull(limit: core.load.maxBufferedBytes))
            return false
        }
        bodyCharge = total
        return true
    }

    /// Gives the body's room back to the shared budget; call once `body` is dropped or handed on.
    func releaseBody() {
        core.load.releaseBody(bodyCharge)
        bodyCharge = 0
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is AgentConnectionTimeouts.RequestBodyStalled { return bodyStalled() }
        context.fireUserInboundEventTriggered(event)
    }

    /// The agent sent nothing of its request body for the body timeout: 408 and close, or just close once a
    /// response has begun. Not when reads are held back for a slow upstream: then the agent is not the one stalling.
    private func bodyStalled() {
        guard !readHeld else { return timeouts.bodyHeldBack() }
        core.shipper.counters.add(.requestBodyTimeouts)
        let seconds = core.configuration.requestBodyTimeout.components.seconds
        core.logger.info("agent connection closed: request body stalled", metadata: ["timeout_s": "\(seconds)"])
        guard !responseStarted else {
            context?.close(promise: nil)
            return
        }
        if let upstream {
            // The upstream has part of a streamed request that will never end.
            self.upstream = nil
            upstream.abandon()
        }
        closeAfterResponse = true
        answer(ProxyError.requestTimeout("the request body stopped arriving for \(seconds) s"))
    }

    /// Fails the upstream when it sends nothing of its response for `upstreamStallTimeout` (one timer per exchange,
    /// moved on lazily: a byte costs a clock read, not a reschedule). While the agent cannot take more, reading is
    /// paused and the pause is the agent's, so the wait starts again.
    func watchForStall(since start: NIODeadline) {
        guard let context else { return }
        lastUpstreamBytes = start
        let timeout = TimeAmount.nanoseconds(core.configuration.upstreamStallTimeout.micros * 1000)
        let generation = self.generation
        upstreamTimer = context.eventLoop.assumeIsolated().scheduleTask(deadline: start + timeout) { [self] in
            guard generation == self.generation, phase == .forwarding, let upstream else { return }
            let now = NIODeadline.now()
            if self.context?.channel.isWritable == false { return watchForStall(since: now) }
            guard now - lastUpstreamBytes >= timeout else { return watchForStall(since: lastUpstreamBytes) }
            let seconds = core.configuration.upstreamStallTimeout.components.seconds
            upstream.fail(UpstreamFailure("no bytes of the response for \(seconds) s"))
        }
    }
}
