/// One proxied LLM call as the sidecar saw it: request and response, metadata and timings.
///
/// Credentials never appear here: the sidecar removes `authorization`, `x-api-key`, `api-key`,
/// `cookie` and every `x-agentledger-*` header before it builds a `CapturedCall`.
package struct CapturedCall: Sendable, Equatable {
    /// UUID assigned by the sidecar; the idempotency key of the store.
    package var actionID: String
    /// When the request arrived at the sidecar, microseconds since the Unix epoch.
    package var arrivedAtMicros: Int64
    package var method: String
    /// The request target, path and query, as the agent sent it.
    package var path: String
    /// The sidecar's identity (`AGENTLEDGER_SOURCE`).
    package var source: String
    /// Attribution from the `x-agentledger-*` request headers.
    package var metadata: CallMetadata
    /// Request headers minus credentials and `x-agentledger-*` ones.
    package var requestHeaders: [HeaderField]
    /// The request body as the agent sent it.
    package var requestBody: [UInt8]
    package var requestBodyTruncated: Bool
    /// The upstream's status; nil when no answer came (upstream unreachable, call refused).
    package var statusCode: UInt16?
    package var responseHeaders: [HeaderField]
    /// The response body as it reached the agent (before any decoding), up to the capture limit.
    package var responseBody: [UInt8]
    package var responseBodyTruncated: Bool
    /// Microseconds from arrival to the first response body byte; nil when no byte came.
    package var firstByteMicros: Int64?
    /// Microseconds from arrival to the last response byte (or to the failure).
    package var completedMicros: Int64
    package var outcome: CallOutcome
    /// Human-readable detail of a non-`completed` outcome.
    package var outcomeDetail: String?
    /// The sidecar added `stream_options.include_usage` and removed the extra usage chunk.
    package var usageInjected: Bool

    package init(
        actionID: String, arrivedAtMicros: Int64, method: String, path: String, source: String,
        metadata: CallMetadata = CallMetadata(), requestHeaders: [HeaderField] = [], requestBody: [UInt8] = [],
        requestBodyTruncated: Bool = false, statusCode: UInt16? = nil, responseHeaders: [HeaderField] = [],
        responseBody: [UInt8] = [], responseBodyTruncated: Bool = false, firstByteMicros: Int64? = nil,
        completedMicros: Int64 = 0, outcome: CallOutcome = .completed, outcomeDetail: String? = nil,
        usageInjected: Bool = false
    ) {
        self.actionID = actionID
        self.arrivedAtMicros = arrivedAtMicros
        self.method = method
        self.path = path
        self.source = source
        self.metadata = metadata
        self.requestHeaders = requestHeaders
        self.requestBody = requestBody
        self.requestBodyTruncated = requestBodyTruncated
        self.statusCode = statusCode
        self.responseHeaders = responseHeaders
        self.responseBody = responseBody
        self.responseBodyTruncated = responseBodyTruncated
        self.firstByteMicros = firstByteMicros
        self.completedMicros = completedMicros
        self.outcome = outcome
        self.outcomeDetail = outcomeDetail
        self.usageInjected = usageInjected
    }

    /// The first value of a response header, case-insensitively; `name` is given in lower case.
    package func responseHeader(_ name: String) -> String? {
        responseHeaders.first { $0.hasName(name) }?.value
    }
}

/// Attribution an agent sends in `x-agentledger-*` headers (docs/reference.md, "Request headers").
package struct CallMetadata: Sendable, Equatable {
    package var sessionID: String?
    package var userID: String?
    package var agentName: String?
    package var appID: String?
    package var parentActionID: String?
    package var environment: String?
    package var handoffFrom: String?
    package var handoffTo: String?

    package init(
        sessionID: String? = nil, userID: String? = nil, agentName: String? = nil, appID: String? = nil,
        parentActionID: String? = nil, environment: String? = nil, handoffFrom: String? = nil, handoffTo: String? = nil
    ) {
        self.sessionID = sessionID
        self.userID = userID
        self.agentName = agentName
        self.appID = appID
        self.parentActionID = parentActionID
        self.environment = environment
        self.handoffFrom = handoffFrom
        self.handoffTo = handoffTo
    }
}

/// One HTTP header line.
package struct HeaderField: Sendable, Equatable {
    package var name: String
    package var value: String

    package init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }

    /// Whether the name is `lowercased` (lower-case ASCII) ignoring case, exactly as `name.lowercased() ==
    /// lowercased` answers: an ASCII name is compared byte by byte without building a lower-cased copy; any other
    /// takes Unicode lower-casing (some non-ASCII letters lower-case to ASCII ones, such as the Kelvin sign).
    package func hasName(_ lowercased: String) -> Bool {
        if let ascii = name.utf8.withContiguousStorageIfAvailable({ name in
            lowercased.utf8.withContiguousStorageIfAvailable { Self.asciiEqualIgnoringCase(name, $0) } ?? nil
        }) ?? nil {
            return ascii
        }
        return name.lowercased() == lowercased
    }

    /// Nil when `name` is not ASCII.
    private static func asciiEqualIgnoringCase(_ name: UnsafeBufferPointer<UInt8>, _ wanted: UnsafeBufferPointer<UInt8>)
        -> Bool?
    {
        guard name.allSatisfy({ $0 < 0x80 }) else { return nil }
        guard name.count == wanted.count else { return false }
        for (byte, wanted) in zip(name, wanted) where (byte &- UInt8(ascii: "A") < 26 ? byte + 32 : byte) != wanted {
            return false
        }
        return true
    }
}

/// How a call ended, as far as the sidecar could tell.
package enum CallOutcome: UInt8, Sendable, Equatable, CaseIterable {
    /// The whole response reached the agent.
    case completed = 0
    /// The upstream failed mid-response (reset, timeout, malformed framing).
    case upstreamFailed = 1
    /// The agent went away before the response ended.
    case clientDisconnected = 2
    /// No response at all: connect failure, DNS, TLS.
    case upstreamUnreachable = 3
    /// Refused by a budget or a rate limit; never forwarded.
    case refused = 4
}
