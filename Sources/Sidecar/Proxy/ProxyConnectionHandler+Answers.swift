import LedgerProtocol
import NIOCore
import NIOHTTP1

/// Answers the proxy writes itself (errors, metrics), the end of every response, and the record shipped with it.
extension ProxyConnectionHandler {
    func ship(_ outcome: CallOutcome, detail: String?) {
        guard var finished = tap else { return }
        tap = nil
        finished.finish(outcome: outcome, detail: detail)
        core.shipper.ship(finished.call)
    }

    /// Answers the current request without the upstream; for a captured call that got as far as a record, the
    /// record is shipped with `outcome`.
    func answer(_ error: ProxyError, outcome: CallOutcome? = nil) {
        var headers: HTTPHeaders = ["content-type": "application/json"]
        if case .refused(_, _, let retryAfter?) = error { headers.add(name: "retry-after", value: String(retryAfter)) }
        if let call = tap?.call {
            headers.add(name: "x-agentledger-action-id", value: call.actionID)
            if outcome == .refused, let session = call.metadata.sessionID {
                headers.add(name: "x-agentledger-session-id", value: session)
            }
        }
        if let outcome {
            ship(outcome, detail: error.description)
        } else {
            tap = nil
        }
        answer(status: error.status, headers: headers, body: error.body)
    }

    func answer(status: HTTPResponseStatus, headers: HTTPHeaders, body: ByteBuffer) {
        guard let context else { return }
        upstreamTimer?.cancel()
        self.body = ByteBuffer()
        releaseBody()
        phase = requestEnded ? .idle : .answered
        responseStarted = true
        var headers = headers
        headers.add(name: "content-length", value: String(body.readableBytes))
        if closeAfterResponse && requestHead.version.minor >= 1 { headers.add(name: "connection", value: "close") }
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: requestHead.version, status: status, headers: headers))),
            promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        endResponse(context)
    }

    func endResponse(_ context: ChannelHandlerContext) {
        timeouts.responseFinished()
        guard closeAfterResponse else {
            return context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }
}
