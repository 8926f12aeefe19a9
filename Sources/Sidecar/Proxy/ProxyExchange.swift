import LedgerAdmission
import LedgerProtocol
import LedgerProviders
import NIOCore
import NIOHTTP1

/// The exchanges of one agent connection as a state machine without I/O (in the manner of postgres-nio's
/// `ConnectionStateMachine`): each event (a request part, a verdict, an upstream callback, a timer, the connection
/// going away) is a `mutating func` that returns the `Action` for `ProxyConnectionHandler` to carry out. Every
/// race of an exchange is decided here, and is testable without sockets.
///
/// One exchange at a time: `HTTPServerPipelineHandler` holds the next request until this one's response has ended.
/// A captured call goes `idle → collecting → (admitting →) connecting → awaitingHead → streaming`; a streamed one
/// (uncaptured, or `up`'s local paths) goes straight from its head to `connecting`, its body following as it
/// arrives. Every exchange ends in an answer of ours or the end of the upstream's response: back to `idle`, or to
/// `draining` while the rest of the request is read and dropped; or the connection ends (`closed`).
///
/// `Upstream` is the upstream connection's type; the exchange only hands it back in actions, never calls it.
struct ProxyExchange<Upstream: AnyObject> {
    /// Where the current exchange is. Like every stored property below, changed only by the events of
    /// `ProxyExchange` (in this file and its `+` files); internal only because they span files.
    enum State {
        /// No request under way.
        case idle
        /// A captured request's body is arriving; `charge` bytes of the shared budget are held for it.
        case collecting(CapturedRequest, body: ByteBuffer, charge: Int)
        /// A captured request, read whole, waits for the collector's verdict.
        case admitting(parts: [HTTPClientRequestPart])
        /// An upstream connection was asked for.
        case connecting(Upload)
        /// The request is going to `upstream`; no response head yet.
        case awaitingHead(Upload, upstream: Upstream)
        /// The response is flowing from `upstream` to the agent.
        case streaming(Upload, upstream: Upstream)
        /// The response ended (an answer of ours, or an upstream's early one) before the request did: the rest of
        /// the request is read and dropped.
        case draining
        /// A WebSocket handshake is on its way to the in-process server.
        case tunnelling
        /// The connection is closed or closing (or became a tunnel): nothing more is sent.
        case closed
        /// Never seen outside an event: a payload is being changed in place (see `requestBodyPart`).
        case modifying
    }

    /// The request side of a forwarded exchange.
    struct Upload {
        var route: UpstreamRoute
        /// Parts not yet written: the whole captured request, or a streamed request's parts that came before the
        /// connection. Empty once connected.
        var pending: [HTTPClientRequestPart]
        /// The body goes upstream as it arrives (not captured): reads wait for the upstream to take more.
        var streamsBody: Bool
        var upstreamWritable = false
    }

    let settings: ProxyExchangeSettings
    var state = State.idle
    /// The current exchange; moves on with each request head and when the connection goes.
    private(set) var id = ExchangeID()
    /// The current request's HTTP version, used for every response head.
    var version = HTTPVersion.http1_1
    /// The agent connection ends with this response (HTTP/1.0, `connection: close`, or an error that leaves the
    /// request unread).
    var closesAfterResponse = false
    /// The current request's last part was read.
    var requestEnded = true
    /// A `read` of the agent connection is held back until the upstream can take more of a streamed body.
    var readHeld = false
    /// The agent can take more bytes now (the channel's writability).
    var agentWritable = true

    // The response under way, touched by every chunk: kept beside `state` so a chunk changes it in place.
    /// The record of a captured call, from the end of its request until it is shipped.
    var record: CaptureTap?
    /// Takes out of an OpenAI stream the usage only we asked for.
    var usageFilter: UsageChunkFilter?
    /// When the upstream last sent part of the response (or when the stall watch last started again).
    var lastUpstreamBytes = NIODeadline.uptimeNanoseconds(0)

    init(settings: ProxyExchangeSettings) {
        self.settings = settings
    }

    // MARK: The agent's request

    /// A request head, planned by the handler. `now` starts the upstream head timeout of a streamed request.
    mutating func requestHead(_ plan: consuming RequestPlan, version: HTTPVersion, keepAlive: Bool, now: NIODeadline) -> Action {
        if case .collecting(_, _, let charge) = state { settings.bodies.releaseBody(charge) }
        id.advance()
        self.version = version
        closesAfterResponse = !keepAlive || version.major == 1 && version.minor == 0
        requestEnded = false
        record = nil
        usageFilter = nil
        state = .idle
        switch consume plan {
        case .answer(let status, let headers, let body):
            return answer(status: status, headers: headers, body: body)
        case .refuse(let error, let incident):
            return answer(error, incident: incident)
        case .tunnel(let head):
            state = .tunnelling
            return .openTunnel(head)
        case .stream(let head, let route):
            return connect(Upload(route: route, pending: [.head(head)], streamsBody: true), now: now)
        case .capture(let request):
            var body = ByteBuffer()
            var charge = 0
            if let declared = request.declaredLength {
                if let refusal = reserveBody(declared, charge: &charge) { return refusal }
                body.reserveCapacity(declared)
            }
            state = .collecting(request, body: body, charge: charge)
            return .none
        }
    }

    /// Part of the request body: collected (captured), sent or queued for the upstream (streamed), or dropped.
    mutating func requestBodyPart(_ buffer: ByteBuffer) -> Action {
        // A payload that grows is bound with `if case` and the state set to `.modifying`: the binding is then the one
        // reference to its storage, which grows in place. (A `switch` may hold a second one, and copy at each chunk.)
        if case .collecting(let request, var body, var charge) = state {
            state = .modifying
            if let refusal = collect(buffer, into: &body, charge: &charge) { return refusal }
            state = .collecting(request, body: body, charge: charge)
            return .none
        }
        if case .connecting(var upload) = state, upload.streamsBody {
            state = .modifying
            upload.pending.append(.body(.byteBuffer(buffer)))
            state = .connecting(upload)
            return .none
        }
        switch state {
        case .awaitingHead(let upload, let upstream) where upload.streamsBody,
            .streaming(let upload, let upstream) where upload.streamsBody:
            return .writeToUpstream(upstream, .body(.byteBuffer(buffer)), flush: false)
        default:
            return .none
        }
    }

    /// The request's last part. A captured request now goes for admission (when the collector asks for it) or
    /// upstream; `now` starts the upstream head timeout.
    mutating func requestEnded(admissionRequired: @autoclosure () -> Bool, now: NIODeadline) -> Action {
        requestEnded = true
        if case .connecting(var upload) = state, upload.streamsBody {
            state = .modifying
            upload.pending.append(.end(nil))
            state = .connecting(upload)
            return .none
        }
        switch state {
        case .collecting:
            // Read whole: the body now travels as the call's record and the forwarded request.
            guard case .collecting(let request, let body, let charge) = takeState() else { return .none }
            settings.bodies.releaseBody(charge)
            let forwarded = request.forwarded(
                body: body, source: settings.source, responseLimit: settings.maxCapturedResponseBytes)
            record = forwarded.record
            guard admissionRequired() else {
                return connect(Upload(route: .upstream, pending: forwarded.parts, streamsBody: false), now: now)
            }
            state = .admitting(parts: forwarded.parts)
            return .askAdmission(
                AdmissionRequest(
                    call: forwarded.record.call, body: forwarded.body, format: request.format, exchange: id))
        case .awaitingHead(let upload, let upstream) where upload.streamsBody,
            .streaming(let upload, let upstream) where upload.streamsBody:
            return .writeToUpstream(upstream, .end(nil), flush: true)
        case .draining:
            state = .idle
            return .none
        default:
            return .none
        }
    }

    /// A read burst of the agent connection ended: what was written of a streamed body goes out.
    func requestReadComplete() -> Action {
        switch state {
        case .awaitingHead(let upload, let upstream) where upload.streamsBody,
            .streaming(let upload, let upstream) where upload.streamsBody:
            return .flushUpstream(upstream)
        default:
            return .none
        }
    }

    /// The agent connection is about to read. A streamed body is read only as fast as the upstream takes it, and
    /// not before there is an upstream: `.none` holds the read until then.
    mutating func readRequested() -> Action {
        guard !requestEnded else { return .read }
        switch state {
        case .connecting(let upload) where upload.streamsBody:
            readHeld = true
            return .none
        case .awaitingHead(let upload, _) where upload.streamsBody && !upload.upstreamWritable,
            .streaming(let upload, _) where upload.streamsBody && !upload.upstreamWritable:
            readHeld = true
            return .none
        default:
            return .read
        }
    }

    /// The agent sent nothing of its request body for the body timeout: 408 and close, or just close once a
    /// response has begun. Not when reads are held back for a slow upstream: then the agent is not the one stalling.
    mutating func requestBodyStalled() -> Action {
        guard !readHeld else { return .restartBodyDeadline }
        let timedOut = ProxyError.requestTimeout(
            "the request body stopped arriving for \(settings.requestBodyTimeout.components.seconds) s")
        switch state {
        case .streaming, .draining:
            return .close(.requestBodyStalled)
        case .collecting(_, _, let charge):
            settings.bodies.releaseBody(charge)
            closesAfterResponse = true
            return answer(timedOut, incident: .requestBodyStalled)
        case .awaitingHead(_, let upstream):
            // The upstream has part of a streamed request that will never end.
            closesAfterResponse = true
            return answer(timedOut, incident: .requestBodyStalled, abandoning: upstream)
        case .admitting, .connecting, .tunnelling:
            closesAfterResponse = true
            return answer(timedOut, incident: .requestBodyStalled)
        case .idle, .closed, .modifying:
            return .none
        }
    }

    /// The agent can take more bytes, or cannot: the upstream is read, or paused, to match.
    mutating func agentWritabilityChanged(_ writable: Bool) -> Action {
        agentWritable = writable
        switch state {
        case .awaitingHead(_, let upstream), .streaming(_, let upstream):
            return writable ? .resumeUpstreamReading(upstream) : .pauseUpstreamReading(upstream)
        default:
            return .none
        }
    }

    /// The agent connection is gone. A call under way is recorded as the client's disconnect.
    mutating func channelInactive() -> Action {
        id.advance()
        var abandoned: Upstream?
        switch state {
        case .collecting(_, _, let charge): settings.bodies.releaseBody(charge)
        case .awaitingHead(_, let upstream), .streaming(_, let upstream): abandoned = upstream
        default: break
        }
        let shipped = finishRecord(.clientDisconnected, detail: "client disconnected before the response ended")
        usageFilter = nil
        readHeld = false
        state = .closed
        return .stop(record: shipped, abandoning: abandoned)
    }

    // MARK: Admission

    /// The collector's verdict (or its absence) for exchange `exchange`: forwarded, or answered here.
    mutating func verdict(_ outcome: AdmissionClient.Outcome, for exchange: ExchangeID, now: NIODeadline) -> Action {
        guard exchange == id, case .admitting(let parts) = state else { return .none }
        switch outcome {
        case .notRequired, .admitted:
            return connect(Upload(route: .upstream, pending: parts, streamsBody: false), now: now)
        case .refused(let verdict):
            let refusal = ProxyError.refused(
                type: verdict.refusalType ?? "budget_exceeded", message: verdict.message ?? "refused by the collector",
                retryAfterSeconds: verdict.retryAfterSeconds,
                format: record.flatMap { ProviderFormat.matching(path: ProviderPaths.path(of: $0.call.path)) })
            record?.responded(status: refusal.status.code, headers: ["content-type": "application/json"])
            record?.received(refusal.body)
            return answer(refusal, outcome: .refused, incident: .refusedByCollector)
        case .unavailable(let reason):
            guard !settings.refuseWhenCollectorDown else {
                record = nil
                return answer(.collectorUnavailable, incident: .admissionUnavailable(reason: reason, refusing: true))
            }
            return connect(
                Upload(route: .upstream, pending: parts, streamsBody: false), now: now,
                incident: .admissionUnavailable(reason: reason, refusing: false))
        }
    }

    // MARK: Shared steps

    /// Asks for an upstream connection for `upload`, the head timeout running from `now`.
    private mutating func connect(_ upload: Upload, now: NIODeadline, incident: ExchangeIncident? = nil) -> Action {
        state = .connecting(upload)
        let timer = UpstreamTimer(deadline: now + settings.upstreamHeadTimeout.timeAmount, exchange: id)
        return .acquireUpstream(upload.route, timer, incident: incident)
    }

    /// Appends a chunk of a captured request's body. Room in the shared budget is taken before the buffer grows,
    /// so what the budget counts is what is allocated. Returns the refusal when the body cannot grow.
    private mutating func collect(_ buffer: ByteBuffer, into body: inout ByteBuffer, charge: inout Int) -> Action? {
        let limit = settings.maxBodyBytes
        let (needed, overflow) = body.readableBytes.addingReportingOverflow(buffer.readableBytes)
        guard !overflow, needed <= limit else {
            settings.bodies.releaseBody(charge)
            return answer(.bodyTooLarge(limit: limit), incident: .bodyTooLarge)
        }
        if needed > body.capacity {
            // Doubling, as ByteBuffer would grow, but never past the body limit.
            let doubled = body.capacity > limit / 2 ? limit : body.capacity * 2
            let grown = min(max(needed, doubled), limit)
            if let refusal = reserveBody(grown, charge: &charge) { return refusal }
            body.reserveCapacity(grown)
        }
        var buffer = buffer
        body.writeBuffer(&buffer)
        return nil
    }

    /// Holds room for `total` bytes of the body in the shared budget (`charge` is what is held already). When there
    /// is no room, what was held is given back and the answer is 503 and close.
    private mutating func reserveBody(_ total: Int, charge: inout Int) -> Action? {
        guard total > charge else { return nil }
        guard settings.bodies.reserveBody(total - charge) else {
            settings.bodies.releaseBody(charge)
            charge = 0
            closesAfterResponse = true
            return answer(
                .bodyBufferFull(limit: settings.bodies.maxBufferedBytes), incident: .bodyBufferFull(bodyBytes: total))
        }
        charge = total
        return nil
    }

    /// Ships nothing more for this exchange: the record, finished with `outcome`, for the action that ships it.
    mutating func finishRecord(_ outcome: CallOutcome, detail: String?) -> CapturedCall? {
        record.take()?.finishedCall(outcome: outcome, detail: detail)
    }

    /// The state, moved out with `.modifying` left in its place: its payloads are taken, not copied (a copy of a
    /// captured request or of an upload's parts costs a retain and a release of each of their buffers and strings).
    /// The caller sets the next state.
    mutating func takeState() -> State {
        var taken = State.modifying
        swap(&taken, &state)
        return taken
    }

    /// Lets go of a read held for the upstream: true when there was one (the action passes it on).
    mutating func takeHeldRead() -> Bool {
        defer { readHeld = false }
        return readHeld
    }
}
