/// Where records live: SQLite on one machine, Postgres for a fleet, the same behaviour on both.
package protocol Store: Sendable {
    /// Applies pending migrations; safe to call on every start.
    func migrate() async throws
    /// Inserts the records in one transaction. Idempotent on `action_id`: known ids are counted, not stored again.
    func insert(_ records: [CallRecord]) async throws -> InsertResult
    /// The session's calls, oldest first.
    func calls(inSession sessionID: String) async throws -> [CallRecord]
    func call(actionID: String) async throws -> CallRecord?
    /// Session aggregates, newest first, with the total number of matches.
    func sessions(_ query: SessionQuery) async throws -> SessionPage
    /// Throws unless the store answers and its migrations are applied (for `/readyz`).
    func checkReady() async throws
    func close() async throws
}

/// How many records of a batch were new.
package struct InsertResult: Sendable, Equatable {
    package var stored: Int
    package var duplicates: Int

    package init(stored: Int, duplicates: Int) {
        self.stored = stored
        self.duplicates = duplicates
    }
}

/// Paging and filters of `/api/sessions`.
package struct SessionQuery: Sendable, Equatable {
    package var limit = 50
    package var offset = 0
    package var agentName: String?
    package var userID: String?
    package var environment: String?

    package init(limit: Int = 50, offset: Int = 0) {
        self.limit = limit
        self.offset = offset
    }
}

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
    package var totalCostUSD: Double
    package var errorCount: Int
    package var blockedCount: Int
    package var modelID: String?
    package var agentName: String?
    package var userID: String?
    package var environment: String?
}

/// The store could not do what was asked; the message names what failed.
package struct StoreError: Error, CustomStringConvertible {
    package var message: String
    package init(_ message: String) { self.message = message }
    package var description: String { message }
}
