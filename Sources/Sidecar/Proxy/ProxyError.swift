import LedgerProtocol
import LedgerProviders
import NIOCore
import NIOHTTP1

/// Failures the proxy answers itself, mapped to responses in one place.
package enum ProxyError: Error, CustomStringConvertible {
    case bodyTooLarge(limit: Int)
    /// No answer from the upstream; the message names it (`scheme://host:port`) and what failed, in our words.
    case upstreamUnreachable(String)
    case collectorUnavailable
    /// The collector refused the call: a budget or rate limit (docs/reference.md, "Refusals"). `format` is the call's
    /// wire format, whose own error shape the answer takes.
    case refused(type: String, message: String, retryAfterSeconds: UInt32?, format: ProviderFormat? = nil)
    /// `AGENTLEDGER_MAX_AGENT_CONNECTIONS` connections are open already.
    case tooManyConnections(limit: Int)
    /// The body would take the request bodies held across all connections past `AGENTLEDGER_MAX_BUFFERED_MB`.
    case bodyBufferFull(limit: Int)
    /// The agent stopped sending a request's head or body; `what` says which, and for how long.
    case requestTimeout(String)

    package var description: String {
        switch self {
        case .bodyTooLarge(let limit): "request body exceeds the limit of \(limit) bytes (AGENTLEDGER_MAX_BODY_MB)"
        case .upstreamUnreachable(let message): message
        case .collectorUnavailable:
            "the AgentLedger collector is unreachable and AGENTLEDGER_ON_COLLECTOR_DOWN=closed; the call was not forwarded"
        case .refused(_, let message, _, _): message
        case .tooManyConnections(let limit):
            "the sidecar has \(limit) agent connections open, its limit (AGENTLEDGER_MAX_AGENT_CONNECTIONS); retry later"
        case .bodyBufferFull(let limit):
            "request bodies being received take \(limit) bytes, the limit (AGENTLEDGER_MAX_BUFFERED_MB); retry later"
        case .requestTimeout(let what): what
        }
    }

    var status: HTTPResponseStatus {
        switch self {
        case .bodyTooLarge: .payloadTooLarge
        case .upstreamUnreachable: .badGateway
        case .collectorUnavailable: .serviceUnavailable
        case .refused: .tooManyRequests
        case .tooManyConnections, .bodyBufferFull: .serviceUnavailable
        case .requestTimeout: .requestTimeout
        }
    }

    var type: String {
        switch self {
        case .bodyTooLarge: "request_too_large"
        case .upstreamUnreachable: "upstream_unavailable"
        case .collectorUnavailable: "collector_unavailable"
        case .refused(let type, _, _, _): type
        case .tooManyConnections, .bodyBufferFull: "sidecar_overloaded"
        case .requestTimeout: "request_timeout"
        }
    }

    /// `{"error":{"type":…,"message":…}}`, the shape agents' SDKs already parse. A refusal takes its provider's own
    /// envelope around that: Anthropic's `{"type":"error","error":{…}}`, OpenAI's with `code` and `param` beside
    /// `type` and `message`.
    var body: ByteBuffer {
        let error = #""type":\#(JSONString.quoted(type)),"message":\#(JSONString.quoted(description))"#
        switch self {
        case .refused(_, _, _, .anthropicMessages?):
            return ByteBuffer(string: #"{"type":"error","error":{\#(error)}}"#)
        case .refused(_, _, _, .openAIChat?), .refused(_, _, _, .openAIResponses?):
            return ByteBuffer(string: #"{"error":{\#(error),"code":\#(JSONString.quoted(type)),"param":null}}"#)
        default:
            return ByteBuffer(string: "{\"error\":{\(error)}}")
        }
    }

    /// Headers of the answer beyond its content type. A refusal's `Retry-After` is the real wait; a budget refusal
    /// says `x-should-retry: false`, which the official OpenAI and Anthropic SDKs obey instead of retrying a 429
    /// (a budget does not free up in a second or two).
    var headers: [(name: String, value: String)] {
        guard case .refused(let type, _, let retryAfter, _) = self else { return [] }
        var headers: [(name: String, value: String)] = []
        if let retryAfter { headers.append(("retry-after", String(retryAfter))) }
        if type == "budget_exceeded" { headers.append(("x-should-retry", "false")) }
        return headers
    }

    /// A whole HTTP/1.1 response that ends the connection, as bytes: for a connection with no request parsed yet
    /// (refused at accept, or a head that never ended), written below the HTTP codec.
    var closingResponse: ByteBuffer {
        let body = self.body
        var text = "HTTP/1.1 \(status.code) \(status.reasonPhrase)\r\ncontent-type: application/json\r\n"
        if status == .serviceUnavailable { text += "retry-after: 1\r\n" }
        text += "content-length: \(body.readableBytes)\r\nconnection: close\r\n\r\n"
        var buffer = ByteBuffer(string: text)
        buffer.writeImmutableBuffer(body)
        return buffer
    }
}
