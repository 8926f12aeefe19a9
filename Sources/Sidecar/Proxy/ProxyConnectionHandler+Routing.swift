import LedgerMetrics
import LedgerProtocol
import Logging
import NIOCore
import NIOHTTP1

/// What the handler decides from a request head alone (where it goes, whether it is refused before its body), and
/// the two steps that leave the event loop's own connections: ADMIT on the collector link, and `up`'s WebSocket
/// tunnel to the in-process server.
extension ProxyConnectionHandler {
    /// The plan for a request, from its head, the settings, and whether the collector link is up.
    func plan(for head: HTTPRequestHead) -> RequestPlan {
        let path = CapturedPaths.path(of: head.uri)
        if core.servesMetrics && head.method == .GET && path == SidecarMetrics.path {
            var text: [UInt8] = []
            core.metrics.emit(into: &text)
            return .answer(.ok, ["content-type": prometheusContentType], ByteBuffer(bytes: text))
        }
        if let local, local.routes.owns(path) {
            // A dashboard or API request in `up`: to the in-process server, as the agent sent it but for hop-by-hop
            // headers; a WebSocket handshake turns the connection into a tunnel there.
            if head.headers.first(name: "upgrade")?.lowercased() == "websocket" { return .tunnel(head) }
            return .stream(ProxyHeads.local(head), to: .local)
        }
        let format = CapturedPaths.format(method: head.method.rawValue, path: path)
        let captured = format != nil
        let declaredLength = head.headers.first(name: "content-length").flatMap { Int($0) }
        if let declaredLength, declaredLength > core.configuration.maxBodyBytes {
            return .refuse(.bodyTooLarge(limit: core.configuration.maxBodyBytes), .bodyTooLarge)
        }
        var metadata = CallMetadata()
        var (upstreamHead, keptHeaders) = ProxyHeads.upstream(
            head, address: core.address, captured: captured, metadata: &metadata)
        guard let format else {
            ProxyHeads.addStreamedFraming(of: head, to: &upstreamHead)
            return .stream(upstreamHead, to: .upstream)
        }
        if core.configuration.refuseWhenCollectorDown && !core.shipper.isLinkReady {
            return .refuse(.collectorUnavailable, .collectorDown)
        }
        return .capture(
            CapturedRequest(
                upstreamHead: upstreamHead, keptHeaders: keptHeaders, metadata: metadata, method: head.method.rawValue,
                target: head.uri, format: format, declaredLength: declaredLength,
                started: .now))
    }

    /// Sends ADMIT for the call on the collector link; the verdict (or its absence) comes back to this connection's
    /// event loop, one hop each way.
    func askAdmission(_ request: Exchange.AdmissionRequest) {
        guard let context else { return }
        let call = request.call
        let summary = CallSummary(body: request.body, format: request.format)
        let bodyBytes = UInt32(clamping: request.body.readableBytes)
        let exchangeID = request.exchange
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        core.admission.admit(
            { requestID in
                Admit(
                    requestID: requestID, actionID: call.actionID, sessionID: call.metadata.sessionID,
                    agentName: call.metadata.agentName, userID: call.metadata.userID, appID: call.metadata.appID,
                    model: summary.model, bodyBytes: bodyBytes, maxTokens: summary.maxTokens,
                    environment: call.metadata.environment)
            }, answeringOn: context.eventLoop
        ) { outcome in
            let handler = bound.value
            handler.run(handler.exchange.verdict(outcome, for: exchangeID, now: .now()))
        }
    }

    /// A WebSocket handshake for the in-process server: sent there as it came; after its `101` the connection is
    /// a byte tunnel and this handler leaves the pipeline.
    func tunnel(_ head: HTTPRequestHead) {
        guard let context, let local else { return }
        var outbound = head
        outbound.version = .http1_1
        let handshake = UpgradeTunnel.handshake(outbound, to: local.routes.address, on: context.eventLoop)
            .assumeIsolated()
        handshake.whenSuccess { [self] reply, backend in
            guard reply.status == .switchingProtocols else {
                backend.close(promise: nil)
                return run(exchange.tunnelRefused(status: reply.status))
            }
            guard let context = self.context, exchange.tunnelSwitched() else { return backend.close(promise: nil) }
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
            run(exchange.tunnelFailed(UpstreamFailure(error)))
        }
    }

    /// Counts an incident of an exchange, and logs it when an operator should hear of it.
    func report(_ incident: ExchangeIncident) {
        let counters = core.shipper.counters
        switch incident {
        case .bodyTooLarge:
            counters.add(.bodyTooLarge)
        case .bodyBufferFull(let bodyBytes):
            counters.add(.bodyBufferFull)
            core.logger.warning(
                "request refused: request bodies in memory at their limit",
                metadata: ["limit_bytes": "\(core.load.maxBufferedBytes)", "body_bytes": "\(bodyBytes)"])
        case .collectorDown:
            counters.add(.refusedCollectorDown)
        case .refusedByCollector:
            counters.add(.refusedByCollector)
        case .admissionUnavailable(let reason, let refusing):
            counters.add(.admissionUnavailable)
            if refusing {
                counters.add(.refusedCollectorDown)
            } else {
                core.logger.debug("forwarding without a verdict", metadata: ["reason": "\(reason)"])
            }
        case .upstreamUnreachable(let failure, let route):
            counters.add(.upstreamUnreachable)
            var metadata: Logger.Metadata = ["upstream": "\(core.address.origin)", "reason": "\(failure.reason)"]
            if route == .local { metadata["upstream"] = "dashboard server" }
            if let cause = failure.cause { metadata["cause"] = "\(cause)" }
            core.logger.warning("upstream unreachable", metadata: metadata)
        case .upstreamFailedMidResponse(let failure):
            core.logger.info(
                "upstream failed mid-response",
                metadata: [
                    "upstream": "\(core.address.origin)", "reason": "\(failure.reason)", "cause": "\(failure.cause ?? "-")",
                ])
        case .requestBodyStalled:
            counters.add(.requestBodyTimeouts)
            let seconds = core.configuration.requestBodyTimeout.components.seconds
            core.logger.info("agent connection closed: request body stalled", metadata: ["timeout_s": "\(seconds)"])
        }
    }
}
