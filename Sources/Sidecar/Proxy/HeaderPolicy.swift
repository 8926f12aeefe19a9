import LedgerProtocol

/// Which request and response headers travel where (CONTRACT.md section 3).
package enum HeaderPolicy {
    /// Hop-by-hop headers (RFC 9110 section 7.6.1) plus those the HTTP client recomputes.
    static let hopByHop: Set<String> = [
        "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection", "te", "trailer",
        "transfer-encoding", "upgrade", "host", "content-length",
    ]

    /// Forwarded upstream, never captured, stored, logged or shipped.
    static let credentials: Set<String> = ["authorization", "x-api-key", "api-key", "cookie", "set-cookie"]

    /// Prefixes of our own headers; the second is the seed's later spelling, accepted as an alias.
    static let ownPrefixes = ["x-agentledger-", "x-agenticledger-"]

    /// Names listed in a `Connection` header are hop-by-hop for this message too.
    static func connectionTokens(_ value: String?) -> Set<String> {
        guard let value else { return [] }
        return Set(value.split(separator: ",").map { $0.trimmingSpaces().lowercased() })
    }

    /// The suffix after `x-agentledger-` (or its alias) when `name` is one of ours.
    static func ownSuffix(_ lowercasedName: String) -> Substring? {
        for prefix in ownPrefixes where lowercasedName.hasPrefix(prefix) {
            return lowercasedName.dropFirst(prefix.count)
        }
        return nil
    }

    /// Sorts an agent's request headers: ours go into `metadata`, hop-by-hop ones (and those its `Connection` header
    /// names) are dropped, the rest go to `forward` as sent. For a captured call, what was forwarded minus credentials
    /// is returned, names lower-cased, for the record.
    static func forward<Fields: Sequence<(name: String, value: String)>>(
        _ fields: Fields, connection: String?, captured: Bool, metadata: inout CallMetadata,
        to forward: (String, String) -> Void
    ) -> [HeaderField] {
        let dropped = connectionTokens(connection)
        var kept: [HeaderField] = []
        for (name, value) in fields {
            let lowered = name.lowercased()
            if let suffix = ownSuffix(lowered) {
                apply(suffix: suffix, value: value, to: &metadata)
                continue
            }
            if hopByHop.contains(lowered) || dropped.contains(lowered) { continue }
            forward(name, value)
            if captured && !credentials.contains(lowered) { kept.append(HeaderField(lowered, value)) }
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
