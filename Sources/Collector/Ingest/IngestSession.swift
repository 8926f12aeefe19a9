import LedgerProtocol

/// The collector's side of one sidecar link as a state machine: events in, actions out, no I/O.
package struct IngestSession: Sendable {
    package enum State: Sendable, Equatable {
        case awaitingHello
        /// `version`: the protocol version WELCOME chose for the link.
        case ready(source: String, version: UInt16)
        case closed
    }

    package enum Action: Sendable, Equatable {
        /// Write this message and keep reading.
        case reply(Message)
        /// Commit the batch to the store, then ACK it (or report `storeUnavailable` and close).
        case commit(Records)
        /// Write this message, then close the link.
        case refuse(ErrorMessage)
        /// The sidecar reported its figures (STATUS); nothing goes back.
        case status(SidecarStatus)
        /// Nothing to do.
        case none
    }

    package private(set) var state = State.awaitingHello
    let requiredToken: String?
    /// `AGENTLEDGER_INGEST_TOKENS_FILE`: tokens each bound to one source name.
    let tokens: IngestTokens?
    let collectorID: String
    let maxFrameBytes: Int
    /// Whether sidecars must send ADMIT before each call (the collector enforces budgets or rate limits).
    let admissionRequired: Bool

    package init(
        requiredToken: String?, tokens: IngestTokens? = nil, collectorID: String, maxFrameBytes: Int,
        admissionRequired: Bool = false
    ) {
        self.requiredToken = requiredToken
        self.tokens = tokens
        self.collectorID = collectorID
        self.maxFrameBytes = maxFrameBytes
        self.admissionRequired = admissionRequired
    }

    package mutating func received(_ message: Message) -> Action {
        switch (state, message) {
        case (.closed, _):
            return .none
        case (.awaitingHello, .hello(let hello)):
            // HELLO names the highest version the sidecar speaks; the link speaks the lower of it and ours.
            guard hello.protocolVersion >= UInt16(WireFormat.version) else {
                return close(
                    .unsupportedVersion,
                    "protocol version \(hello.protocolVersion) is not supported; this collector speaks \(WireFormat.version) to \(WireFormat.latestVersion)"
                )
            }
            let version = min(hello.protocolVersion, UInt16(WireFormat.latestVersion))
            guard authorized(hello) else {
                return close(
                    .unauthorized,
                    "missing or wrong ingest token for source '\(hello.source)' (AGENTLEDGER_INGEST_TOKEN or AGENTLEDGER_INGEST_TOKENS_FILE)"
                )
            }
            state = .ready(source: hello.source, version: version)
            return .reply(
                .welcome(
                    Welcome(
                        protocolVersion: version, collectorID: collectorID, maxFrameBytes: UInt32(clamping: maxFrameBytes),
                        admissionRequired: admissionRequired)))
        case (.awaitingHello, _):
            return close(.unexpectedMessage, "expected HELLO, got \(message.type)")
        case (.ready, .records(let records)):
            return .commit(records)
        case (.ready, .ping(let nonce)):
            return .reply(.pong(nonce: nonce))
        case (.ready(_, let version), .status(let status)):
            guard version >= 2 else { return close(.unexpectedMessage, "STATUS on a link that speaks version \(version)") }
            return .status(status)
        case (.ready, .admit):
            // `AdmissionHandler` answers every ADMIT of an authenticated link before it gets here: this one was sent
            // before the sidecar could have read WELCOME.
            return close(.unexpectedMessage, "ADMIT before WELCOME")
        case (.ready, .pong), (.ready, .error):
            return .none
        case (.ready, _):
            return close(.unexpectedMessage, "unexpected \(message.type) from a sidecar")
        }
    }

    /// Whether HELLO proves its source: no token is required, or it carries the shared token, or the token the
    /// tokens file binds to the source it names. Both are always compared, so the time taken tells nothing.
    private func authorized(_ hello: Hello) -> Bool {
        guard requiredToken != nil || tokens != nil else { return true }
        let presented = hello.ingestToken ?? ""
        let byShared = requiredToken.map { Self.constantTimeEquals(presented, $0) } ?? false
        let byFile = tokens?.verify(source: hello.source, token: presented) ?? false
        return byShared || byFile
    }

    /// A frame could not be decoded: tell the peer why and close.
    package mutating func decodingFailed(_ error: ProtocolError) -> Action {
        switch error {
        case .oversized: close(.frameTooLarge, error.description)
        case .unsupportedVersion: close(.unsupportedVersion, error.description)
        default: close(.malformedFrame, error.description)
        }
    }

    private mutating func close(_ code: ErrorMessage.Code, _ text: String) -> Action {
        state = .closed
        return .refuse(ErrorMessage(code: code, message: text))
    }

    /// Compares secrets in time that depends only on their lengths, not on where they differ.
    package static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        var difference = UInt8(x.count == y.count ? 0 : 1)
        for index in 0..<max(x.count, y.count) {
            difference |= (index < x.count ? x[index] : 0) ^ (index < y.count ? y[index] : 0)
        }
        return difference == 0
    }
}
