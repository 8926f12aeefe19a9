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
    /// Calls whose prompt, output, agent or user hold every term of the query (see `SearchText`), newest first. A
    /// message is searched in the call that first stored it, not in the later calls that resend it as history.
    func search(_ query: SearchQuery) async throws -> [CallRecord]
    /// Spend, calls, tokens, errors and latency over a time range, per bucket, per model and per agent.
    func stats(_ query: StatsQuery) async throws -> CallStats
    /// A session's lifetime spend from its aggregates: 0 for an unknown session; blocked calls cost nothing.
    func sessionCost(_ sessionID: String) async throws -> Double
    /// The spend of calls at or after `sinceMicros` (µs since the epoch), in total, per agent, per user and per app.
    func spend(sinceMicros: Int64) async throws -> SpendTotals
    /// Keeps records that cannot be stored as calls; a record already kept (same bytes) is not kept twice.
    func quarantine(_ records: [QuarantinedRecord]) async throws
    /// The newest quarantined records, newest first, with how many there are in all.
    func quarantined(limit: Int) async throws -> (records: [QuarantinedRecord], total: Int)
    /// Limits set at run time through the API (`PolicyEditor`), in the order they were first set.
    func policyOverrides() async throws -> [PolicyOverride]
    /// In one transaction: keeps `override` (nil: removes the override at `change.target`) and appends `change` to the
    /// audit trail.
    func savePolicyChange(_ change: PolicyChange, override: PolicyOverride?) async throws
    /// The newest changes of limits first.
    func policyChanges(limit: Int) async throws -> [PolicyChange]
    /// Keeps what collectors know of their sidecars (`FleetRegistry`). A row is replaced only by one of the same or a
    /// newer link (`linkedAtMicros`); rows of sidecars disconnected for a week are deleted.
    func saveSidecars(_ reports: [SidecarReport]) async throws
    /// Every sidecar any collector of the store has written, by source.
    func sidecars() async throws -> [SidecarReport]
    /// Upkeep run at start and then hourly (`StoreMaintenance`): on Postgres, the coming days' partitions of `calls`;
    /// with `retention`, deletes the calls of every UTC day that ended before `retention.cutoffMicros`, with
    /// everything derived from them (see `Retention`).
    func maintain(nowMicros: Int64, retention: Retention?) async throws -> MaintenanceResult
    /// Throws unless the store answers and its migrations are applied (for `/readyz`).
    func checkReady() async throws
    func close() async throws
}

/// Which records of a batch were new; the rest were already stored (or repeated within the batch).
package struct InsertResult: Sendable, Equatable {
    package var newActionIDs: Set<String>
    package var duplicates: Int
    /// Records set aside in the quarantine instead of stored (counted by the ingest pipeline, not by stores).
    package var quarantined = 0
    package var stored: Int { newActionIDs.count }

    package init(newActionIDs: Set<String>, duplicates: Int) {
        self.newActionIDs = newActionIDs
        self.duplicates = duplicates
    }
}

/// Lifetime spend in USD from some instant on, as budget enforcement reads it. Calls without an agent name
/// (or a user id, an app id, a model, an environment) count in `total` only.
package struct SpendTotals: Sendable, Equatable {
    package var total: Double
    package var byAgent: [String: Double]
    package var byUser: [String: Double]
    package var byApp: [String: Double]
    package var byModel: [String: Double]
    package var byEnvironment: [String: Double]

    package init(
        total: Double = 0, byAgent: [String: Double] = [:], byUser: [String: Double] = [:], byApp: [String: Double] = [:],
        byModel: [String: Double] = [:], byEnvironment: [String: Double] = [:]
    ) {
        self.total = total
        self.byAgent = byAgent
        self.byUser = byUser
        self.byApp = byApp
        self.byModel = byModel
        self.byEnvironment = byEnvironment
    }

    mutating func add(
        _ amount: Double, agent: String?, user: String?, app: String?, model: String? = nil, environment: String? = nil
    ) {
        total = Money.sum(total, amount)
        if let agent { byAgent[agent] = Money.sum(byAgent[agent] ?? 0, amount) }
        if let user { byUser[user] = Money.sum(byUser[user] ?? 0, amount) }
        if let app { byApp[app] = Money.sum(byApp[app] ?? 0, amount) }
        if let model { byModel[model] = Money.sum(byModel[model] ?? 0, amount) }
        if let environment { byEnvironment[environment] = Money.sum(byEnvironment[environment] ?? 0, amount) }
    }
}

/// The store could not do what was asked; the message names what failed.
package struct StoreError: Error, CustomStringConvertible {
    package var message: String
    /// The store was busy or out of reach (a lock held elsewhere, a timeout, a lost connection), not refusing what it
    /// was given: the same write can succeed later, so the records must be kept and sent again, never quarantined.
    package var transient: Bool
    package init(_ message: String, transient: Bool = false) {
        self.message = message
        self.transient = transient
    }
    package var description: String { message }

    /// Whether `error` is a `StoreError` that says the store was only busy or out of reach.
    package static func isTransient(_ error: any Error) -> Bool {
        (error as? StoreError)?.transient ?? false
    }
}
