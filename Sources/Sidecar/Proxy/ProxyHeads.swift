import LedgerProtocol
import NIOHTTP1

/// The heads the proxy writes, each made from the one that came in: the request it sends upstream (or, in `up`,
/// to the in-process server) and the response head the agent gets.
enum ProxyHeads {
    /// The request for the upstream: the agent's end-to-end headers as sent (ours go into `metadata` instead), the
    /// upstream's `Host`, the URL's path prefix in front of the target. Also returns, for a captured call, the
    /// headers kept for its record. Framing is added later: a captured body's length is known once read.
    static func upstream(
        _ head: HTTPRequestHead, address: UpstreamAddress, captured: Bool, metadata: inout CallMetadata
    ) -> (HTTPRequestHead, kept: [HeaderField]) {
        var headers = HTTPHeaders()
        headers.reserveCapacity(head.headers.count + 2)
        headers.add(name: "host", value: address.hostHeader)
        let kept = HeaderPolicy.forward(head.headers, captured: captured, metadata: &metadata) {
            headers.add(name: $0, value: $1)
        }
        return (
            HTTPRequestHead(version: .http1_1, method: head.method, uri: address.pathPrefix + head.uri, headers: headers), kept
        )
    }

    /// A dashboard or API request for the in-process server: every end-to-end header (the API reads its key from
    /// `x-agentledger-api-key`), the agent's `Host`, and the agent's framing.
    static func local(_ head: HTTPRequestHead) -> HTTPRequestHead {
        var headers = HTTPHeaders()
        if let host = head.headers.first(name: "host") { headers.add(name: "host", value: host) }
        HeaderPolicy.forEachEndToEnd(head.headers) { name, _, value in headers.add(name: name, value: value) }
        var local = HTTPRequestHead(version: .http1_1, method: head.method, uri: head.uri, headers: headers)
        addStreamedFraming(of: head, to: &local)
        return local
    }

    /// The agent's own framing, for a body forwarded part by part as it arrives.
    static func addStreamedFraming(of head: HTTPRequestHead, to outbound: inout HTTPRequestHead) {
        if let length = head.headers.first(name: "content-length") {
            outbound.headers.add(name: "content-length", value: length)
        } else if head.headers.contains(name: "transfer-encoding") {
            outbound.headers.add(name: "transfer-encoding", value: "chunked")
        }
    }

    /// The response head for the agent: the upstream's end-to-end headers, its length when the body passes
    /// unchanged, and for a captured call our ids. `filtersUsage`: the body is an OpenAI stream whose usage only we
    /// asked for, to be taken out again. `closeAfter` is set when the agent's connection must end with the response.
    static func response(
        to upstream: HTTPResponseHead, version: HTTPVersion, call: CapturedCall?, closeAfter: inout Bool
    ) -> (head: HTTPResponseHead, filtersUsage: Bool) {
        var headers = HTTPHeaders()
        headers.reserveCapacity(upstream.headers.count + 2)
        var eventStream = false
        HeaderPolicy.forEachEndToEnd(upstream.headers) { name, lowered, value in
            if lowered == "content-type" { eventStream = value.lowercased().hasPrefix("text/event-stream") }
            headers.add(name: name, value: value)
        }
        var filtersUsage = false
        if let call {
            headers.add(name: "x-agentledger-action-id", value: call.actionID)
            if let session = call.metadata.sessionID { headers.add(name: "x-agentledger-session-id", value: session) }
            filtersUsage = call.usageInjected && upstream.status == .ok && eventStream
        }
        if let length = upstream.headers.first(name: "content-length"), !filtersUsage {
            headers.add(name: "content-length", value: length)
        } else if version.minor == 0 && upstream.status.mayHaveResponseBody {
            closeAfter = true
        }
        if closeAfter && version.minor >= 1 { headers.add(name: "connection", value: "close") }
        return (HTTPResponseHead(version: version, status: upstream.status, headers: headers), filtersUsage)
    }
}
