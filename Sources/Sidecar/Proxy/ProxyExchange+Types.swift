import NIOCore
import NIOHTTP1

/// Tells one exchange on an agent connection from the next. Whatever comes back later than the event that asked
/// for it (an upstream connection, a verdict, a timer) carries the id it was asked with, and `ProxyExchange` drops
/// it when the exchange it belongs to is over.
struct ExchangeID: Hashable, Sendable {
    private(set) var value: UInt64 = 0

    mutating func advance() {
        value &+= 1
    }
}

/// Where an exchange is forwarded: the configured upstream, or in `agentledger up` the in-process server that
/// serves the dashboard and its API.
enum UpstreamRoute: Sendable, Equatable {
    case upstream
    case local
}

/// What a request head asks for, decided from the head alone by the connection handler (it knows the routes, the
/// settings and whether the collector link is up); `ProxyExchange.requestHead` takes it from there.
enum RequestPlan {
    /// Answered by the proxy itself (the metrics page).
    case answer(HTTPResponseStatus, HTTPHeaders, ByteBuffer)
    /// Refused before any of the body is read.
    case refuse(ProxyError, ExchangeIncident)
    /// A WebSocket handshake for the in-process server; the connection becomes a tunnel after its `101`.
    case tunnel(HTTPRequestHead)
    /// Forwarded with its body as it arrives: `head` is the one the upstream gets.
    case stream(HTTPRequestHead, to: UpstreamRoute)
    /// Read whole, recorded, maybe admitted, then forwarded.
    case capture(CapturedRequest)
}

/// Something that went wrong in an exchange, for the sidecar's counters and log: the exchange decides what
/// happened, the connection handler counts it and says it.
enum ExchangeIncident {
    /// A request body larger than `AGENTLEDGER_MAX_BODY_MB` (declared or read).
    case bodyTooLarge
    /// The shared body budget had no room for `bodyBytes` more.
    case bodyBufferFull(bodyBytes: Int)
    /// A captured call refused because no collector link is up (`AGENTLEDGER_ON_COLLECTOR_DOWN=closed`).
    case collectorDown
    /// The collector's verdict refused the call.
    case refusedByCollector
    /// No verdict could be had; `refusing`: the call is answered 503 rather than forwarded without one.
    case admissionUnavailable(reason: String, refusing: Bool)
    /// No response could be had from the upstream (or, on `.local`, the in-process server).
    case upstreamUnreachable(UpstreamFailure, route: UpstreamRoute)
    /// The upstream failed after its response head: the agent got what came, then the connection ended.
    case upstreamFailedMidResponse(UpstreamFailure)
    /// The agent stopped sending its request body for the body timeout.
    case requestBodyStalled
}

/// What `ProxyExchange` needs of the proxy's settings, read once per agent connection.
struct ProxyExchangeSettings: Sendable {
    /// `AGENTLEDGER_MAX_BODY_MB` in bytes.
    var maxBodyBytes: Int
    /// Most response bytes copied into a record.
    var maxCapturedResponseBytes: Int
    /// `AGENTLEDGER_SOURCE`, stored on every record.
    var source: String
    /// The upstream as `scheme://host:port`, for the messages that name it.
    var upstreamOrigin: String
    var upstreamHeadTimeout: Duration
    /// How long the agent may pause while sending a request body (`AGENTLEDGER_REQUEST_BODY_TIMEOUT_MS`); only
    /// named in the answer, the timer is `AgentConnectionTimeouts`'.
    var requestBodyTimeout: Duration
    var upstreamStallTimeout: Duration
    /// `AGENTLEDGER_ON_COLLECTOR_DOWN=closed`: no verdict means 503, not forwarding without one.
    var refuseWhenCollectorDown: Bool
    /// The request-body memory shared by every agent connection; a captured body holds its room here while read.
    var bodies: AgentLoad
}
