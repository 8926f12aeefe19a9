/// A session's aggregates, maintained as its calls are inserted.
package struct SessionSummary: Sendable, Equatable {
    package var sessionID: String
    package var callCount: Int
    package var startedAtMicros: Int64
    package var endedAtMicros: Int64
    package var totalLatencyMS: Double
    package var totalTokensIn: Int
    package var totalTokensOut: Int
    /// The spend of the session's calls; blocked calls count 0.
    package var totalCostUSD: Double
    package var errorCount: Int
    package var blockedCount: Int
    package var modelID: String?
    package var agentName: String?
    package var userID: String?
    package var environment: String?
    package var appID: String?
    /// The distinct sidecar identities (`source`) of the session's calls, first seen first; at most `maximumSources`.
    package var sources: [String] = []
    /// Calls of the session with no known price (`CallRecord.isUnpriced`): `totalCostUSD` leaves them out.
    package var unpricedCalls = 0

    /// How many sources a session keeps; calls from further sidecars are counted but their source is not listed.
    package static let maximumSources = 16
}

extension SessionSummary: Encodable {
    enum CodingKeys: String, CodingKey {
        case sessionID = "session_id", callCount = "call_count", startedAt = "started_at", endedAt = "ended_at"
        case totalLatencyMS = "total_latency_ms", totalTokensIn = "total_tokens_in", totalTokensOut = "total_tokens_out"
        case totalCostUSD = "total_cost_usd", errorCount = "error_count", blockedCount = "blocked_count"
        case modelID = "model_id", agentName = "agent_name", userID = "user_id", environment, sources
        case unpricedCalls = "unpriced_calls"
    }

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(sessionID, forKey: .sessionID)
        try c.encode(callCount, forKey: .callCount)
        try c.encode(ISOTimestamp.format(micros: startedAtMicros), forKey: .startedAt)
        try c.encode(ISOTimestamp.format(micros: endedAtMicros), forKey: .endedAt)
        try c.encode(CallRecord.milliseconds(totalLatencyMS), forKey: .totalLatencyMS)
        try c.encode(totalTokensIn, forKey: .totalTokensIn)
        try c.encode(totalTokensOut, forKey: .totalTokensOut)
        try c.encode(totalCostUSD, forKey: .totalCostUSD)
        try c.encode(errorCount, forKey: .errorCount)
        try c.encode(blockedCount, forKey: .blockedCount)
        try c.encode(unpricedCalls, forKey: .unpricedCalls)
        try c.encode(modelID, forKey: .modelID)
        try c.encode(agentName, forKey: .agentName)
        try c.encode(userID, forKey: .userID)
        try c.encode(environment, forKey: .environment)
        try c.encode(sources, forKey: .sources)
    }
}
