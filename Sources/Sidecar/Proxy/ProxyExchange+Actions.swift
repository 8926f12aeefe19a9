import LedgerProtocol
import LedgerProviders
import NIOCore
import NIOHTTP1

extension ProxyExchange {
    /// What the connection handler does next, as one event of the exchange decided it. Each case says everything
    /// it takes, so the handler only carries it out. No case is boxed (`indirect`): an action is returned in place
    /// and costs no allocation, whichever it is.
    enum Action {
        /// Nothing to do.
        case none
        /// Pass the agent connection's `read` on (a read held for a slow upstream, or one not held at all).
        case read
        /// The body timer fired while reads were held back for the upstream: the agent is not the one stalling, so
        /// its pause starts again (`AgentConnectionTimeouts.bodyHeldBack`).
        case restartBodyDeadline
        /// Answer the agent ourselves, without (or instead of) the upstream.
        case answer(Answer)
        /// Send ADMIT for the call; feed the outcome back with `verdict(_:for:now:)`.
        case askAdmission(AdmissionRequest)
        /// Ask `route`'s pool for a connection and arm the upstream timer (the head timeout); feed the result back
        /// with `upstreamConnected` or `upstreamConnectFailed`. `incident` happened on the way (admission
        /// unavailable, forwarding without a verdict).
        case acquireUpstream(UpstreamRoute, UpstreamTimer, incident: ExchangeIncident?)
        /// Give `upstream` this exchange, pause its reading if the agent cannot take more, and write `parts`,
        /// flushing after the last; then tell the exchange how writable the upstream is.
        case sendRequest(Upstream, [HTTPClientRequestPart], pauseReading: Bool)
        /// Close a connection no exchange needs (one that arrived after its exchange was over).
        case abandonUpstream(Upstream)
        /// Write part of a streamed request to the upstream.
        case writeToUpstream(Upstream, HTTPClientRequestPart, flush: Bool)
        case flushUpstream(Upstream)
        /// The agent cannot take more of the response: the upstream stops being read, and so slows down.
        case pauseUpstreamReading(Upstream)
        case resumeUpstreamReading(Upstream)
        /// Close the upstream connection; it then reports `upstreamFailed(failure)`.
        case failUpstream(Upstream, UpstreamFailure)
        /// Write the response head to the agent, and move the upstream timer on to watch for a stall.
        case writeResponseHead(HTTPResponseHead, UpstreamTimer)
        /// Write part of the response body to the agent (flushed when the upstream's read burst ends).
        case writeToAgent(ByteBuffer)
        /// The upstream's response ended: the rest goes to the agent, the record is shipped, the connection goes
        /// back to its pool.
        case finishResponse(FinishedResponse)
        /// The upstream failed mid-response: the timer is cancelled, the record shipped, what the agent got is
        /// flushed and its connection closed, as a direct call would end.
        case cutResponse(record: CapturedCall?, ExchangeIncident, resumesReading: Bool)
        /// Close the agent connection (its body stalled after the response had begun).
        case close(ExchangeIncident)
        /// Re-arm the upstream timer: the stall watch moved on.
        case scheduleUpstreamTimer(UpstreamTimer)
        /// Relay the WebSocket handshake to the in-process server; feed the result back with `tunnelSwitched`,
        /// `tunnelRefused` or `tunnelFailed`.
        case openTunnel(HTTPRequestHead)
        /// The agent connection is gone: the timer is cancelled, the record (if any) shipped as the client's
        /// disconnect, the upstream connection (if any) closed.
        case stop(record: CapturedCall?, abandoning: Upstream?)
    }

    /// A response the proxy writes itself, whole.
    struct Answer {
        /// With its `content-length`, and `connection: close` when the connection ends after it.
        var head: HTTPResponseHead
        var body: ByteBuffer
        /// The agent connection closes once the answer is written.
        var closesConnection: Bool
        /// The call's finished record, to ship.
        var record: CapturedCall?
        var incident: ExchangeIncident?
        /// An upstream connection holding part of a request that will never end, to close.
        var abandoning: Upstream?
        /// A read held for the upstream is let go.
        var resumesReading: Bool
    }

    /// The end of a response relayed from the upstream.
    struct FinishedResponse {
        /// Bytes the usage filter held until the end.
        var tail: ByteBuffer?
        var record: CapturedCall?
        /// Goes back to `route`'s pool (which closes it unless it can carry another exchange).
        var upstream: Upstream
        var route: UpstreamRoute
        var closesConnection: Bool
        var resumesReading: Bool
    }

    /// ADMIT for a captured call.
    struct AdmissionRequest {
        var call: CapturedCall
        /// The body as it goes upstream (what the collector prices).
        var body: ByteBuffer
        /// The call's wire format: where admission reads the model and the output cap.
        var format: ProviderFormat
        var exchange: ExchangeID
    }

    /// One deadline of the connection's single upstream timer: the response head's, then the stall watch's. When
    /// it passes, feed `upstreamTimerFired(for:now:)` with `exchange`.
    struct UpstreamTimer: Equatable {
        var deadline: NIODeadline
        var exchange: ExchangeID
    }
}
