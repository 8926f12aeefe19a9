import LedgerProtocol

/// The example messages that docs/protocol.md shows byte by byte, with their exact bytes.
///
/// The raw value is the name used in the document's `<!-- golden: NAME -->` markers.
enum GoldenVector: String, CaseIterable, Sendable {
    case hello
    case welcome
    case admit
    case admitEnvironment = "admit-environment"
    case verdictRefuse = "verdict-refuse"
    case records
    case ack
    case ping
    case pong
    case error
    case errorStoreUnavailable = "error-store-unavailable"
    case status

    /// The one small captured call of the RECORDS example.
    static let exampleCall = CapturedCall(
        actionID: "act-1", arrivedAtMicros: 1_700_000_000_000_000, method: "POST", path: "/v1/chat/completions",
        source: "pod-a", metadata: CallMetadata(sessionID: "s1"), requestBody: Array("{}".utf8), statusCode: 200,
        responseBody: Array("{}".utf8), firstByteMicros: 900, completedMicros: 1200)

    var message: Message {
        switch self {
        case .hello: .hello(Hello(source: "pod-a", ingestToken: "s3cret", softwareVersion: "0.1.0"))
        case .welcome:
            .welcome(Welcome(protocolVersion: 2, collectorID: "col-1", maxFrameBytes: 80 << 20, admissionRequired: true))
        case .admit:
            .admit(
                Admit(requestID: 5, actionID: "act-1", sessionID: "s1", model: "gpt-4o", bodyBytes: 120, maxTokens: 256)
            )
        case .admitEnvironment:
            .admit(
                Admit(
                    requestID: 5, actionID: "act-1", sessionID: "s1", model: "gpt-4o", bodyBytes: 120, maxTokens: 256,
                    environment: "prod"))
        case .verdictRefuse:
            .verdict(Verdict(requestID: 5, decision: .refuse, refusalType: "budget_exceeded", retryAfterSeconds: 60))
        case .records: .records(Records(batchID: 7, calls: [Self.exampleCall]))
        case .ack: .ack(Ack(batchID: 7, stored: 1, duplicates: 0))
        case .ping: .ping(nonce: 42)
        case .pong: .pong(nonce: 42)
        case .error: .error(ErrorMessage(code: .unauthorized, message: "bad token"))
        case .errorStoreUnavailable: .error(ErrorMessage(code: .storeUnavailable, message: "store down", batchID: 7))
        case .status: .status(SidecarStatus([.sentAtMicros: 1_700_000_000_000_000, .captured: 12, .spoolBytes: 0]))
        }
    }

    /// One line per header and per field; the same bytes as the annotated dump in docs/protocol.md.
    var hex: String {
        switch self {
        case .hello:
            """
            00 00 00 20 01 01
            00 02
            00 00 00 05 70 6f 64 2d 61
            00 00 00 06 73 33 63 72 65 74
            00 00 00 05 30 2e 31 2e 30
            """
        case .welcome:
            """
            00 00 00 12 01 02
            00 02
            00 00 00 05 63 6f 6c 2d 31
            05 00 00 00
            01
            """
        case .admit:
            """
            00 00 00 38 01 03
            00 00 00 00 00 00 00 05
            00 00 00 05 61 63 74 2d 31
            00 00 00 02 73 31
            ff ff ff ff
            ff ff ff ff
            ff ff ff ff
            00 00 00 06 67 70 74 2d 34 6f
            00 00 00 78
            01 00 00 01 00
            """
        case .admitEnvironment:
            """
            00 00 00 40 02 03
            00 00 00 00 00 00 00 05
            00 00 00 05 61 63 74 2d 31
            00 00 00 02 73 31
            ff ff ff ff
            ff ff ff ff
            ff ff ff ff
            00 00 00 06 67 70 74 2d 34 6f
            00 00 00 78
            01 00 00 01 00
            00 00 00 04 70 72 6f 64
            """
        case .verdictRefuse:
            """
            00 00 00 27 01 04
            00 00 00 00 00 00 00 05
            01
            00 00 00 0f 62 75 64 67 65 74 5f 65 78 63 65 65 64 65 64
            ff ff ff ff
            01 00 00 00 3c
            """
        case .records:
            """
            00 00 00 8b 01 05
            00 00 00 00 00 00 00 07
            00 00 00 01
            00 00 00 79
            01 00 00 00 05 61 63 74 2d 31
            02 00 00 00 08 00 06 0a 24 18 1e 40 00
            03 00 00 00 04 50 4f 53 54
            04 00 00 00 14 2f 76 31 2f 63 68 61 74 2f 63 6f 6d 70 6c 65 74 69 6f 6e 73
            05 00 00 00 05 70 6f 64 2d 61
            06 00 00 00 02 73 31
            0f 00 00 00 02 7b 7d
            11 00 00 00 02 00 c8
            13 00 00 00 02 7b 7d
            15 00 00 00 08 00 00 00 00 00 00 03 84
            16 00 00 00 08 00 00 00 00 00 00 04 b0
            """
        case .ack:
            """
            00 00 00 12 01 06
            00 00 00 00 00 00 00 07
            00 00 00 01
            00 00 00 00
            """
        case .ping:
            """
            00 00 00 0a 01 07
            00 00 00 00 00 00 00 2a
            """
        case .pong:
            """
            00 00 00 0a 01 08
            00 00 00 00 00 00 00 2a
            """
        case .error:
            """
            00 00 00 12 01 09
            00 01
            00 00 00 09 62 61 64 20 74 6f 6b 65 6e
            00
            """
        case .errorStoreUnavailable:
            """
            00 00 00 1b 01 09
            00 06
            00 00 00 0a 73 74 6f 72 65 20 64 6f 77 6e
            01 00 00 00 00 00 00 00 07
            """
        case .status:
            """
            00 00 00 29 02 0a
            02 00 00 00 08 00 06 0a 24 18 1e 40 00
            03 00 00 00 08 00 00 00 00 00 00 00 0c
            08 00 00 00 08 00 00 00 00 00 00 00 00
            """
        }
    }

    var bytes: [UInt8] { Hex.bytes(hex) }
}
