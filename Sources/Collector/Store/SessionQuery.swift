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
    /// Sessions seen on this sidecar (one of the first 16 sources a session lists).
    package var source: String?
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
