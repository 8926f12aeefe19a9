import NIOCore
import NIOHTTP1

/// Failures the proxy answers itself, mapped to responses in one place.
package enum ProxyError: Error, CustomStringConvertible {
    case bodyTooLarge(limit: Int)
    case upstreamUnreachable(String)
    case collectorUnavailable
    /// The collector refused the call: a budget or rate limit (CONTRACT.md section 5).
    case refused(type: String, message: String, retryAfterSeconds: UInt32?)

    package var description: String {
        switch self {
        case .bodyTooLarge(let limit): "request body exceeds the limit of \(limit) bytes (AGENTLEDGER_MAX_BODY_MB)"
        case .upstreamUnreachable(let reason): "upstream unreachable: \(reason)"
        case .collectorUnavailable:
            "the AgentLedger collector is unreachable and AGENTLEDGER_ON_COLLECTOR_DOWN=closed; the call was not forwarded"
        case .refused(_, let message, _): message
        }
    }

    var status: HTTPResponseStatus {
        switch self {
        case .bodyTooLarge: .payloadTooLarge
        case .upstreamUnreachable: .badGateway
        case .collectorUnavailable: .serviceUnavailable
        case .refused: .tooManyRequests
        }
    }

    var type: String {
        switch self {
        case .bodyTooLarge: "request_too_large"
        case .upstreamUnreachable: "upstream_unavailable"
        case .collectorUnavailable: "collector_unavailable"
        case .refused(let type, _, _): type
        }
    }

    /// `{"error":{"type":…,"message":…}}`, the shape agents' SDKs already parse.
    var body: ByteBuffer {
        ByteBuffer(string: #"{"error":{"type":"\#(jsonEscaped(type))","message":"\#(jsonEscaped(description))"}}"#)
    }
}

/// Escapes a string for a JSON string literal.
func jsonEscaped(_ text: String) -> String {
    var out = ""
    out.reserveCapacity(text.utf8.count)
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case _ where scalar.value < 0x20:
            out +=
                "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count) + String(scalar.value, radix: 16)
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out
}
