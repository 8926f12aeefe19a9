import LedgerProtocol
import NIOHTTP1

/// Which request and response headers travel where (docs/reference.md, "Request headers" and "Response headers").
package enum HeaderPolicy {
    /// Hop-by-hop headers (RFC 9110 section 7.6.1) plus those the proxy recomputes. `lowered`: a lower-cased name.
    /// (A `switch` over a few short strings: no hashing for each header of each call.)
    static func isHopByHop(_ lowered: String) -> Bool {
        switch lowered {
        case "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection", "te", "trailer",
            "transfer-encoding", "upgrade", "host", "content-length":
            true
        default: false
        }
    }

    /// Forwarded upstream, never captured, stored, logged or shipped. `lowered`: a lower-cased name.
    static func isCredential(_ lowered: String) -> Bool {
        switch lowered {
        case "authorization", "x-api-key", "api-key", "cookie", "set-cookie": true
        default: false
        }
    }

    /// Request headers a record keeps (docs/operations.md, "What is recorded"): an allow-list of names known to
    /// carry no secret and worth keeping (the body's format, SDK and API versions, request and trace ids). Every
    /// other header, a credential under any name included, is forwarded upstream and never recorded.
    static func recordsRequestHeader(_ lowered: String) -> Bool {
        switch lowered {
        case "content-type", "content-encoding", "accept", "accept-encoding", "user-agent", "openai-beta",
            "openai-organization", "openai-project", "anthropic-version", "anthropic-beta", "x-request-id",
            "x-client-request-id", "traceparent", "x-stainless-lang", "x-stainless-package-version", "x-stainless-os",
            "x-stainless-arch", "x-stainless-runtime", "x-stainless-runtime-version", "x-stainless-retry-count",
            "x-stainless-async", "x-stainless-timeout", "x-stainless-helper-method":
            true
        default: false
        }
    }

    /// Response headers a record keeps, on the same terms: the body's format, the provider's request ids and
    /// processing time, and its rate-limit state.
    static func recordsResponseHeader(_ lowered: String) -> Bool {
        switch lowered {
        case "content-type", "content-encoding", "date", "x-request-id", "request-id", "openai-processing-ms",
            "openai-version", "openai-organization", "openai-project", "openai-model", "anthropic-organization-id",
            "retry-after", "retry-after-ms":
            true
        default: lowered.hasPrefix("x-ratelimit-") || lowered.hasPrefix("anthropic-ratelimit-")
        }
    }

    /// Prefixes of our own headers; the second is the seed's later spelling, accepted as an alias.
    static let ownPrefixes = ["x-agentledger-", "x-agenticledger-"]

    /// Names listed in a `Connection` header are hop-by-hop for this message too: those not hop-by-hop anyway,
    /// lower-cased (usually none: the header says `keep-alive` or `close`).
    static func connectionTokens(_ value: String?) -> [String] {
        guard let value else { return [] }
        var tokens: [String] = []
        for token in value.split(separator: ",") {
            let lowered = token.trimmingSpaces().lowercased()
            if !isHopByHop(lowered) { tokens.append(lowered) }
        }
        return tokens
    }

    /// The suffix after `x-agentledger-` (or its alias) when `name` is one of ours.
    static func ownSuffix(_ lowercasedName: String) -> Substring? {
        for prefix in ownPrefixes where lowercasedName.hasPrefix(prefix) {
            return lowercasedName.dropFirst(prefix.count)
        }
        return nil
    }

    /// Calls `body` with each header that is end-to-end for this message: not hop-by-hop and not named by its
    /// `Connection` header. `body` also gets the name lower-cased.
    static func forEachEndToEnd(_ headers: HTTPHeaders, _ body: (_ name: String, _ lowered: String, _ value: String) -> Void) {
        let dropped = connectionTokens(headers.first(name: "connection"))
        for (name, value) in headers {
            let lowered = name.lowercased()
            if isHopByHop(lowered) || (!dropped.isEmpty && dropped.contains(lowered)) { continue }
            body(name, lowered, value)
        }
    }

    /// Sorts an agent's request headers: ours go into `metadata`, the other end-to-end ones go to `forward` as sent.
    /// For a captured call, the forwarded headers the record may keep (`recordsRequestHeader`) are returned, names
    /// lower-cased.
    static func forward(
        _ headers: HTTPHeaders, captured: Bool, metadata: inout CallMetadata, to forward: (String, String) -> Void
    ) -> [HeaderField] {
        var kept: [HeaderField] = []
        forEachEndToEnd(headers) { name, lowered, value in
            if let suffix = ownSuffix(lowered) {
                apply(suffix: suffix, value: value, to: &metadata)
                return
            }
            forward(name, value)
            if captured && recordsRequestHeader(lowered) && !isCredential(lowered) { kept.append(HeaderField(lowered, value)) }
        }
        return kept
    }

    /// Records one of our metadata headers; unknown suffixes (and `api-key`) are ignored.
    static func apply(suffix: Substring, value: String, to metadata: inout CallMetadata) {
        switch suffix {
        case "session-id": metadata.sessionID = value
        case "user-id": metadata.userID = value
        case "agent-name": metadata.agentName = value
        case "app-id": metadata.appID = value
        case "parent-action-id": metadata.parentActionID = value
        case "environment": metadata.environment = value
        case "handoff-from": metadata.handoffFrom = value
        case "handoff-to": metadata.handoffTo = value
        default: break
        }
    }
}

extension Substring {
    func trimmingSpaces() -> Substring {
        var result = self
        while result.first == " " || result.first == "\t" { result.removeFirst() }
        while result.last == " " || result.last == "\t" { result.removeLast() }
        return result
    }
}
