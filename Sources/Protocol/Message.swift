/// Every message that crosses the sidecar–collector link, one per frame.
package enum Message: Sendable, Equatable {
    /// Sidecar → collector, first frame on a link.
    case hello(Hello)
    /// Collector → sidecar, the answer to an accepted HELLO.
    case welcome(Welcome)
    /// Sidecar → collector: may this call go upstream?
    case admit(Admit)
    /// Collector → sidecar: the answer to an ADMIT.
    case verdict(Verdict)
    /// Sidecar → collector: a batch of captured calls.
    case records(Records)
    /// Collector → sidecar: the batch is committed to the store.
    case ack(Ack)
    /// Either way: liveness probe, echoed as PONG.
    case ping(nonce: UInt64)
    case pong(nonce: UInt64)
    /// Either way: the sender refuses something; a fatal error is followed by closing the link.
    case error(ErrorMessage)
    /// Sidecar → collector, version 2: the sidecar's own figures, for the fleet view.
    case status(SidecarStatus)

    package var type: MessageType {
        switch self {
        case .hello: .hello
        case .welcome: .welcome
        case .admit: .admit
        case .verdict: .verdict
        case .records: .records
        case .ack: .ack
        case .ping: .ping
        case .pong: .pong
        case .error: .error
        case .status: .status
        }
    }

    /// The version byte of this message's frame: the lowest protocol version whose layout it needs. A message that
    /// version 1 can carry goes out as a version-1 frame on every link, so only what version 2 added needs a link
    /// whose WELCOME chose 2 (docs/protocol.md, "Versions").
    package var frameVersion: UInt8 {
        switch self {
        case .status: 2
        case .admit(let admit) where admit.environment != nil: 2
        default: 1
        }
    }
}

/// The sidecar introduces itself.
package struct Hello: Sendable, Equatable {
    /// The highest protocol version the sidecar speaks; it speaks every version from 1 up to it.
    package var protocolVersion: UInt16
    /// The sidecar's identity (`AGENTLEDGER_SOURCE`, the pod name in Kubernetes).
    package var source: String
    /// `AGENTLEDGER_INGEST_TOKEN`, when the sidecar has one.
    package var ingestToken: String?
    /// The sidecar's software version, for the collector's logs.
    package var softwareVersion: String

    package init(
        protocolVersion: UInt16 = UInt16(WireFormat.latestVersion), source: String, ingestToken: String?,
        softwareVersion: String
    ) {
        self.protocolVersion = protocolVersion
        self.source = source
        self.ingestToken = ingestToken
        self.softwareVersion = softwareVersion
    }
}

/// The collector accepts a sidecar.
package struct Welcome: Sendable, Equatable {
    /// The version the link speaks from now on: the lower of HELLO's and the highest the collector speaks.
    package var protocolVersion: UInt16
    /// The collector instance's identity, for the sidecar's logs.
    package var collectorID: String
    /// The largest frame the collector accepts; the sidecar sizes its batches below it.
    package var maxFrameBytes: UInt32
    /// Whether the collector enforces budgets or rate limits: only then does the sidecar send ADMIT before a call.
    package var admissionRequired: Bool

    package init(
        protocolVersion: UInt16 = UInt16(WireFormat.version), collectorID: String, maxFrameBytes: UInt32,
        admissionRequired: Bool = false
    ) {
        self.protocolVersion = protocolVersion
        self.collectorID = collectorID
        self.maxFrameBytes = maxFrameBytes
        self.admissionRequired = admissionRequired
    }
}

/// A request for admission of one call, sent before it is forwarded upstream.
package struct Admit: Sendable, Equatable {
    /// Chosen by the sidecar, unique on its link; the VERDICT echoes it.
    package var requestID: UInt64
    package var actionID: String
    package var sessionID: String?
    package var agentName: String?
    package var userID: String?
    package var appID: String?
    package var model: String
    package var bodyBytes: UInt32
    package var maxTokens: UInt32?
    /// The call's environment (`x-agentledger-environment`). Version 2: an ADMIT that carries one is a version-2
    /// frame, so it is left out on a version-1 link.
    package var environment: String?

    package init(
        requestID: UInt64, actionID: String, sessionID: String? = nil, agentName: String? = nil, userID: String? = nil,
        appID: String? = nil, model: String, bodyBytes: UInt32, maxTokens: UInt32? = nil, environment: String? = nil
    ) {
        self.requestID = requestID
        self.actionID = actionID
        self.sessionID = sessionID
        self.agentName = agentName
        self.userID = userID
        self.appID = appID
        self.model = model
        self.bodyBytes = bodyBytes
        self.maxTokens = maxTokens
        self.environment = environment
    }
}

/// The collector's decision on an ADMIT.
package struct Verdict: Sendable, Equatable {
    package enum Decision: UInt8, Sendable {
        case admit = 0
        case refuse = 1
    }

    package var requestID: UInt64
    package var decision: Decision
    /// For refusals: `rate_limit_exceeded` or `budget_exceeded` (docs/reference.md, "Refusals").
    package var refusalType: String?
    package var message: String?
    package var retryAfterSeconds: UInt32?

    package init(
        requestID: UInt64, decision: Decision, refusalType: String? = nil, message: String? = nil,
        retryAfterSeconds: UInt32? = nil
    ) {
        self.requestID = requestID
        self.decision = decision
        self.refusalType = refusalType
        self.message = message
        self.retryAfterSeconds = retryAfterSeconds
    }
}

/// A batch of captured calls. The collector ACKs the batch id once all of it is committed.
package struct Records: Sendable, Equatable {
    package var batchID: UInt64
    package var calls: [CapturedCall]
    /// Records of the frame whose fields could not be decoded or fall outside their ranges; encoded after `calls`.
    package var rejected: [RejectedRecord]

    package init(batchID: UInt64, calls: [CapturedCall], rejected: [RejectedRecord] = []) {
        self.batchID = batchID
        self.calls = calls
        self.rejected = rejected
    }
}

/// One record of a RECORDS frame that is well framed but cannot be a call: its bytes as sent and why it was refused.
package struct RejectedRecord: Sendable, Equatable {
    /// The record's tagged fields, without its length prefix.
    package var bytes: [UInt8]
    package var reason: String

    package init(bytes: [UInt8], reason: String) {
        self.bytes = bytes
        self.reason = reason
    }
}

/// The collector committed a batch: `stored` new calls, `duplicates` already known (replays).
package struct Ack: Sendable, Equatable {
    package var batchID: UInt64
    package var stored: UInt32
    package var duplicates: UInt32

    package init(batchID: UInt64, stored: UInt32, duplicates: UInt32) {
        self.batchID = batchID
        self.stored = stored
        self.duplicates = duplicates
    }
}

/// A refusal or failure report. Codes are stable; messages are for people.
package struct ErrorMessage: Sendable, Equatable {
    package struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        package var rawValue: UInt16
        package init(rawValue: UInt16) { self.rawValue = rawValue }

        /// The ingest token is missing or wrong.
        package static let unauthorized = Code(rawValue: 1)
        /// The peer speaks a protocol version this side does not.
        package static let unsupportedVersion = Code(rawValue: 2)
        /// A frame could not be decoded.
        package static let malformedFrame = Code(rawValue: 3)
        /// A frame exceeded the size limit.
        package static let frameTooLarge = Code(rawValue: 4)
        /// A message arrived that is not valid in the link's state (RECORDS before HELLO, say).
        package static let unexpectedMessage = Code(rawValue: 5)
        /// The collector could not commit a batch (store down); the sidecar keeps it and retries.
        package static let storeUnavailable = Code(rawValue: 6)
        /// The collector is at one of its limits (links, unauthenticated links, buffered bytes); retry later.
        package static let overloaded = Code(rawValue: 7)

        package var description: String {
            switch self {
            case .unauthorized: "unauthorized"
            case .unsupportedVersion: "unsupported_version"
            case .malformedFrame: "malformed_frame"
            case .frameTooLarge: "frame_too_large"
            case .unexpectedMessage: "unexpected_message"
            case .storeUnavailable: "store_unavailable"
            case .overloaded: "overloaded"
            default: "code_\(rawValue)"
            }
        }
    }

    package var code: Code
    package var message: String
    /// For `storeUnavailable`: the batch that was not committed.
    package var batchID: UInt64?

    package init(code: Code, message: String, batchID: UInt64? = nil) {
        self.code = code
        self.message = message
        self.batchID = batchID
    }
}
