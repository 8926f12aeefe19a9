import Foundation

/// A canned behaviour selected by the request header `x-mock-scenario`; anything unknown is `normal`.
enum MockScenario: String, Sendable {
    case normal
    case toolCall = "tool_call"
    case error400 = "error_400"
    case error429 = "error_429"
    case error500 = "error_500"
    case slowStream = "slow_stream"
    case malformed
    case cache
    case reasoning
    case midstreamError = "midstream_error"
    /// A whole (non-stream) answer that declares its full length, sends half of it, then drops the connection.
    case truncatedBody = "truncated_body"

    init(headerValue: String?) {
        let name = headerValue?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
        self = MockScenario(rawValue: name) ?? .normal
    }

    /// The HTTP status of an error scenario, nil for scenarios that answer 200.
    var errorStatus: Int? {
        switch self {
        case .error400: 400
        case .error429: 429
        case .error500: 500
        default: nil
        }
    }

    /// Pause between two stream events: 200 ms for `slow_stream`, else `x-mock-delay-ms` (default 0, at most 10 s).
    func eventDelay(headerValue: String?) -> Duration {
        if self == .slowStream { return .milliseconds(200) }
        let requested = headerValue.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) } ?? 0
        return .milliseconds(min(max(requested, 0), 10_000))
    }
}
