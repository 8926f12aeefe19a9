import LedgerProtocol
import NIOCore
import NIOHTTP1

/// The upstream's side of an exchange: its connection, its response, its timer.
extension ProxyExchange {
    /// The pool gave a connection for exchange `exchange`. One that comes after its exchange is over (the agent
    /// left, the head timeout answered) is closed.
    mutating func upstreamConnected(_ upstream: Upstream, for exchange: ExchangeID) -> Action {
        guard exchange == id, case .connecting = state, case .connecting(var upload) = takeState() else {
            return .abandonUpstream(upstream)
        }
        let parts = upload.pending
        upload.pending = []
        state = .awaitingHead(upload, upstream: upstream)
        return .sendRequest(upstream, parts, pauseReading: !agentWritable)
    }

    /// No connection could be made for exchange `exchange`.
    mutating func upstreamConnectFailed(_ failure: UpstreamFailure, for exchange: ExchangeID) -> Action {
        guard exchange == id, case .connecting(let upload) = state else { return .none }
        return unreachable(failure, connected: false, route: upload.route)
    }

    /// The upstream can take more of the request, or cannot: a read held for it goes on once it can.
    mutating func upstreamWritabilityChanged(_ writable: Bool) -> Action {
        switch state {
        case .awaitingHead(var upload, let upstream):
            upload.upstreamWritable = writable
            state = .awaitingHead(upload, upstream: upstream)
        case .streaming(var upload, let upstream):
            upload.upstreamWritable = writable
            state = .streaming(upload, upstream: upstream)
        default:
            break
        }
        guard writable, readHeld else { return .none }
        readHeld = false
        return .read
    }

    /// The response head: it goes to the agent with our ids, and the stall watch starts at `now`.
    mutating func upstreamHead(_ head: HTTPResponseHead, now: NIODeadline) -> Action {
        guard case .awaitingHead = state, case .awaitingHead(let upload, let upstream) = takeState() else { return .none }
        record?.responded(status: head.status.code, headers: head.headers)
        let response = ProxyHeads.response(
            to: head, version: version, call: record?.call, closeAfter: &closesAfterResponse)
        if response.filtersUsage { usageFilter = UsageChunkFilter() }
        lastUpstreamBytes = now
        state = .streaming(upload, upstream: upstream)
        let stallCheck = UpstreamTimer(deadline: now + settings.upstreamStallTimeout.timeAmount, exchange: id)
        return .writeResponseHead(response.head, stallCheck)
    }

    /// Part of the response body, arrived at `now`: copied into the record, and on to the agent (through the usage
    /// filter when it has one).
    mutating func upstreamBodyPart(_ buffer: ByteBuffer, now: NIODeadline) -> Action {
        guard case .streaming = state else { return .none }
        lastUpstreamBytes = now
        record?.received(buffer)
        guard let kept = usageFilter?.process(buffer) else { return .writeToAgent(buffer) }
        return kept.isEmpty ? .none : .writeToAgent(ByteBuffer(bytes: kept))
    }

    /// The response ended: the call completed. When the request has not ended yet (an upstream that answered an
    /// upload early), the rest of it is read and dropped.
    mutating func upstreamEnded() -> Action {
        guard case .streaming = state, case .streaming(let upload, let upstream) = takeState() else { return .none }
        var tail: ByteBuffer?
        if let rest = usageFilter?.finish(), !rest.isEmpty { tail = ByteBuffer(bytes: rest) }
        usageFilter = nil
        let shipped = finishRecord(.completed, detail: nil)
        state = requestEnded ? .idle : .draining
        return .finishResponse(
            FinishedResponse(
                tail: tail, record: shipped, upstream: upstream, route: upload.route,
                closesConnection: closesAfterResponse, resumesReading: takeHeldRead()))
    }

    /// The upstream connection closed or failed before its response ended: 502 when nothing of the response came,
    /// else the agent keeps what it got and its connection ends.
    mutating func upstreamFailed(_ failure: UpstreamFailure) -> Action {
        switch state {
        case .awaitingHead(let upload, _):
            return unreachable(failure, connected: true, route: upload.route)
        case .streaming:
            let shipped = finishRecord(
                .upstreamFailed, detail: "upstream \(settings.upstreamOrigin) failed mid-response: \(failure.reason)")
            usageFilter = nil
            state = .closed
            return .cutResponse(
                record: shipped, .upstreamFailedMidResponse(failure), resumesReading: takeHeldRead())
        default:
            return .none
        }
    }

    /// The upstream timer of exchange `exchange` passed its deadline, at `now`. Before the response head it is
    /// the head timeout; after, the stall watch: moved on lazily (a byte costs a clock read, not a reschedule), and
    /// started again while the agent is the one not reading.
    mutating func upstreamTimerFired(for exchange: ExchangeID, now: NIODeadline) -> Action {
        guard exchange == id else { return .none }
        switch state {
        case .connecting(let upload):
            let seconds = settings.upstreamHeadTimeout.components.seconds
            return unreachable(UpstreamFailure("no connection within \(seconds) s"), connected: false, route: upload.route)
        case .awaitingHead(_, let upstream):
            let seconds = settings.upstreamHeadTimeout.components.seconds
            return .failUpstream(upstream, UpstreamFailure("no response within \(seconds) s"))
        case .streaming(_, let upstream):
            let timeout = settings.upstreamStallTimeout.timeAmount
            if agentWritable && now - lastUpstreamBytes >= timeout {
                let seconds = settings.upstreamStallTimeout.components.seconds
                return .failUpstream(upstream, UpstreamFailure("no bytes of the response for \(seconds) s"))
            }
            // While the agent cannot take more, reading is paused and the pause is the agent's: the wait starts again.
            if !agentWritable { lastUpstreamBytes = now }
            return .scheduleUpstreamTimer(UpstreamTimer(deadline: lastUpstreamBytes + timeout, exchange: id))
        default:
            return .none
        }
    }

    // MARK: The in-process server's WebSocket

    /// The in-process server switched protocols: true when the exchange still wants the tunnel (the handler then
    /// joins the two connections and leaves), false when it is over (close the backend).
    mutating func tunnelSwitched() -> Bool {
        guard case .tunnelling = state else { return false }
        state = .closed
        return true
    }

    /// The in-process server answered the handshake without switching: its status goes to the agent, and the
    /// connection closes.
    mutating func tunnelRefused(status: HTTPResponseStatus) -> Action {
        guard case .tunnelling = state else { return .none }
        closesAfterResponse = true
        return answer(status: status, headers: [:], body: ByteBuffer())
    }

    /// The in-process server could not be reached for the handshake.
    mutating func tunnelFailed(_ failure: UpstreamFailure) -> Action {
        guard case .tunnelling = state else { return .none }
        closesAfterResponse = true
        return answer(.upstreamUnreachable("could not connect to the dashboard server: \(failure.reason)"))
    }

    // MARK: Answers

    /// No response could be had: 502 naming the upstream (`scheme://host:port`) and what failed, and for a
    /// captured call a record saying so. `connected`: a connection was made, the answer never came.
    mutating func unreachable(_ failure: UpstreamFailure, connected: Bool, route: UpstreamRoute) -> Action {
        let name = route == .upstream ? "upstream \(settings.upstreamOrigin)" : "the dashboard server"
        let message =
            connected ? "\(name) gave no response: \(failure.reason)" : "could not connect to \(name): \(failure.reason)"
        return answer(
            .upstreamUnreachable(message), outcome: .upstreamUnreachable, incident: .upstreamUnreachable(failure, route: route))
    }

    /// Answers the current request with `error`. A call that got as far as a record ships it with `outcome`
    /// (the answer then carries its ids); without an outcome the record is dropped.
    mutating func answer(
        _ error: ProxyError, outcome: CallOutcome? = nil, incident: ExchangeIncident? = nil, abandoning: Upstream? = nil
    ) -> Action {
        var headers: HTTPHeaders = ["content-type": "application/json"]
        for (name, value) in error.headers { headers.add(name: name, value: value) }
        if let actionID = record?.call.actionID {
            headers.add(name: "x-agentledger-action-id", value: actionID)
            if outcome == .refused, let session = record?.call.metadata.sessionID {
                headers.add(name: "x-agentledger-session-id", value: session)
            }
        }
        let shipped = outcome.flatMap { finishRecord($0, detail: error.description) }
        record = nil
        return answer(
            status: error.status, headers: headers, body: error.body, record: shipped, incident: incident,
            abandoning: abandoning)
    }

    /// Answers the current request with a whole response of ours; the rest of the request, if any, is then read and
    /// dropped.
    mutating func answer(
        status: HTTPResponseStatus, headers: HTTPHeaders, body: ByteBuffer, record shipped: CapturedCall? = nil,
        incident: ExchangeIncident? = nil, abandoning: Upstream? = nil
    ) -> Action {
        var headers = headers
        headers.add(name: "content-length", value: String(body.readableBytes))
        if closesAfterResponse && version.minor >= 1 { headers.add(name: "connection", value: "close") }
        usageFilter = nil
        state = requestEnded ? .idle : .draining
        return .answer(
            Answer(
                head: HTTPResponseHead(version: version, status: status, headers: headers), body: body,
                closesConnection: closesAfterResponse, record: shipped, incident: incident, abandoning: abandoning,
                resumesReading: takeHeldRead()))
    }
}
