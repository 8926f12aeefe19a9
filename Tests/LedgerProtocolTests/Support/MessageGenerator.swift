import LedgerProtocol
import LedgerTestSupport

/// Random messages of every type from a seeded generator: unicode text, absent and empty optionals,
/// empty and large-ish bodies, extreme integers.
struct MessageGenerator {
    var rng: SplitMix64

    init(seed: UInt64) { rng = SplitMix64(seed: seed) }

    /// Scalars that tend to break codecs: multi-byte UTF-8, combining marks, NUL, BOM, RTL, emoji.
    private static let awkwardScalars: [Unicode.Scalar] = [
        "\0", "a", "Z", " ", "\n", "\u{7f}", "é", "ß", "\u{301}", "\u{200d}", "\u{feff}", "\u{202e}",
        "中", "語", "🦙", "👩", "\u{10ffff}", "\u{fffd}", "ﷺ", "\u{e000}",
    ]

    mutating func chance(_ percent: UInt64) -> Bool { rng.next() % 100 < percent }

    /// A value of `range`, its ends often.
    mutating func int(in range: ClosedRange<Int64>) -> Int64 {
        switch rng.next() % 4 {
        case 0: range.lowerBound
        case 1: range.upperBound
        default: Int64.random(in: range, using: &rng)
        }
    }

    mutating func int<T: FixedWidthInteger>(_: T.Type = T.self) -> T {
        switch rng.next() % 5 {
        case 0: T.min
        case 1: T.max
        case 2: 0
        default: T.random(in: T.min...T.max, using: &rng)
        }
    }

    mutating func string(maxLength: Int = 24) -> String {
        var scalars = String.UnicodeScalarView()
        for _ in 0..<Int.random(in: 0...maxLength, using: &rng) {
            if chance(70) {
                scalars.append(Self.awkwardScalars.randomElement(using: &rng)!)
            } else if let scalar = Unicode.Scalar(UInt32.random(in: 0...0x10ffff, using: &rng)) {
                scalars.append(scalar)
            }
        }
        return String(scalars)
    }

    mutating func optionalString() -> String? { chance(40) ? nil : string() }

    mutating func optional<T>(_ make: (inout Self) -> T) -> T? { chance(40) ? nil : make(&self) }

    mutating func body() -> [UInt8] {
        let count: Int
        switch rng.next() % 10 {
        case 0, 1, 2: count = 0
        case 3: count = Int.random(in: 4096...70_000, using: &rng)
        default: count = Int.random(in: 1...300, using: &rng)
        }
        return (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }
    }

    mutating func headers() -> [HeaderField] {
        (0..<Int.random(in: 0...4, using: &rng)).map { _ in HeaderField(string(maxLength: 12), string()) }
    }

    mutating func capturedCall() -> CapturedCall {
        CapturedCall(
            actionID: string(maxLength: 40),
            arrivedAtMicros: int(in: CapturedCall.arrivalRange.lowerBound...(CapturedCall.arrivalRange.upperBound - 1)),
            method: string(maxLength: 7),
            path: string(maxLength: 60), source: string(),
            metadata: CallMetadata(
                sessionID: optionalString(), userID: optionalString(), agentName: optionalString(),
                appID: optionalString(), parentActionID: optionalString(), environment: optionalString(),
                handoffFrom: optionalString(), handoffTo: optionalString()),
            requestHeaders: headers(), requestBody: body(), requestBodyTruncated: chance(20),
            statusCode: optional { $0.int() }, responseHeaders: headers(), responseBody: body(),
            responseBodyTruncated: chance(20), firstByteMicros: optional { $0.int(in: CapturedCall.durationRange) },
            completedMicros: int(in: CapturedCall.durationRange),
            outcome: CallOutcome.allCases.randomElement(using: &rng)!, outcomeDetail: optionalString(),
            usageInjected: chance(30))
    }

    mutating func message() -> Message {
        switch MessageType.allCases.randomElement(using: &rng)! {
        case .hello:
            .hello(
                Hello(
                    protocolVersion: int(), source: string(), ingestToken: optionalString(), softwareVersion: string()))
        case .welcome:
            .welcome(Welcome(protocolVersion: int(), collectorID: string(), maxFrameBytes: int(), admissionRequired: chance(50)))
        case .admit:
            .admit(
                Admit(
                    requestID: int(), actionID: string(), sessionID: optionalString(), agentName: optionalString(),
                    userID: optionalString(), appID: optionalString(), model: string(), bodyBytes: int(),
                    maxTokens: optional { $0.int() }, environment: optionalString()))
        case .verdict:
            .verdict(
                Verdict(
                    requestID: int(), decision: chance(50) ? .admit : .refuse, refusalType: optionalString(),
                    message: optionalString(), retryAfterSeconds: optional { $0.int() }))
        case .records:
            .records(
                Records(
                    batchID: int(), calls: (0..<Int.random(in: 0...4, using: &rng)).map { _ in capturedCall() }))
        case .ack: .ack(Ack(batchID: int(), stored: int(), duplicates: int()))
        case .ping: .ping(nonce: int())
        case .pong: .pong(nonce: int())
        case .error:
            .error(
                ErrorMessage(
                    code: ErrorMessage.Code(rawValue: int()), message: string(), batchID: optional { $0.int() }))
        case .status:
            .status(
                SidecarStatus(
                    Dictionary(
                        uniqueKeysWithValues: SidecarStatus.Tag.allCases.filter { _ in chance(70) }.map { ($0, int()) })))
        }
    }
}
