import LedgerProtocol

@testable import Collector

/// Builds captured calls from readable request and response text, as the sidecar would ship them.
enum CapturedCallFixture {
    static func call(
        path: String = "/v1/chat/completions", request: String, response: String = "", status: UInt16? = 200,
        contentType: String? = "application/json", responseHeaders: [HeaderField] = [],
        outcome: CallOutcome = .completed, outcomeDetail: String? = nil, metadata: CallMetadata = CallMetadata(),
        firstByteMicros: Int64? = 120_000, completedMicros: Int64 = 1_234_567
    ) -> CapturedCall {
        var headers = responseHeaders
        if let contentType { headers.append(HeaderField("Content-Type", contentType)) }
        return CapturedCall(
            actionID: "0193a5b0-0000-7000-8000-000000000001", arrivedAtMicros: 1_790_000_000_000_000, method: "POST",
            path: path, source: "agent-pod-1", metadata: metadata,
            requestHeaders: [HeaderField("content-type", "application/json")], requestBody: Array(request.utf8),
            statusCode: status, responseHeaders: headers, responseBody: Array(response.utf8),
            firstByteMicros: firstByteMicros, completedMicros: completedMicros, outcome: outcome,
            outcomeDetail: outcomeDetail)
    }

    /// The record the built-in normalizer makes of `call`.
    static func record(_ call: CapturedCall) -> CallRecord {
        Normalizer().record(from: call)
    }

    /// An SSE body from events, each line ended with `newline`, events separated by a blank line.
    static func sse(_ events: [(name: String?, data: String)], newline: String = "\n") -> String {
        events.map { event in
            (event.name.map { "event: \($0)" + newline } ?? "") + "data: \(event.data)" + newline + newline
        }.joined()
    }

    /// True when two costs agree to 1e-12 USD.
    static func same(_ cost: Double?, _ expected: Double) -> Bool {
        guard let cost else { return false }
        return abs(cost - expected) < 1e-12
    }
}
