/// Paging and filters of `/api/sessions`. A session matches `sinceMicros`/`untilMicros` when its span
/// (first call's arrival to last call's end) overlaps the range, bounds included.
package struct SessionQuery: Sendable, Equatable {
    package static let maximumLimit = 500

    package var limit = 50
    package var offset = 0
    package var agentName: String?
    package var userID: String?
    package var appID: String?
    package var environment: String?
    package var sinceMicros: Int64?
    package var untilMicros: Int64?

    package init(limit: Int = 50, offset: Int = 0) {
        self.limit = limit
        self.offset = offset
    }

    /// The equality filters, as aggregate column and value.
    var equalities: [(column: String, value: String)] {
        [("agent_name", agentName), ("user_id", userID), ("app_id", appID), ("environment", environment)]
            .compactMap { column, value in value.map { (column, $0) } }
    }
}

/// One page of session aggregates and how many sessions match in all.
package struct SessionPage: Sendable {
    package var sessions: [SessionSummary]
    package var total: Int
}

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

    /// How many sources a session keeps; calls from further sidecars are counted but their source is not listed.
    package static let maximumSources = 16
}
