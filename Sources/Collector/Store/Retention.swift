/// `AGENTLEDGER_RETENTION_DAYS`: how long calls are kept. Calls are deleted by the UTC day, on both stores: once a
/// whole day is older than the retention, its calls go, with their search words, the messages no call kept still
/// holds, the sessions whose last call went with them, and the quarantined records received before it. A session
/// that goes on past the cutoff keeps its totals (its lifetime spend still counts for a session budget).
///
/// On Postgres a day is a partition of `calls`, dropped whole (docs/operations.md, "Retention").
package struct Retention: Sendable, Equatable {
    /// How long a call is kept, in microseconds; at least one.
    package var keepMicros: Int64

    package init(keepMicros: Int64) {
        self.keepMicros = max(1, keepMicros)
    }

    /// `days` of at most 100 years; nil for anything else (zero, negative, not finite).
    package init?(days: Double) {
        guard days.isFinite, days > 0, days <= 36_500 else { return nil }
        self.init(keepMicros: Int64((days * Double(Self.dayMicros)).rounded(.up)))
    }

    package static let dayMicros: Int64 = 86_400_000_000

    /// The start of the UTC day `micros` falls in.
    package static func dayStart(_ micros: Int64) -> Int64 {
        micros - ((micros % dayMicros) + dayMicros) % dayMicros
    }

    /// Calls before this instant are deleted: the start of the UTC day that holds `now − keep`, so that only whole
    /// days go and a call is kept at most a day longer than asked.
    package func cutoffMicros(now: Int64) -> Int64 {
        Self.dayStart(now.subtractingReportingOverflow(keepMicros).overflow ? Int64.min / 2 : now - keepMicros)
    }

    /// A message is kept while a kept call may still hold it: a store notes on each message the time of the newest
    /// call holding it, but writes that note only when it moves by more than this, so it may lag by as much.
    package static let messageTouchSlackMicros: Int64 = 3_600_000_000
}

/// What one round of `Store.maintain` did.
package struct MaintenanceResult: Sendable, Equatable {
    package var callsDeleted = 0
    package var sessionsDeleted = 0
    package var messagesDeleted = 0
    package var quarantinedDeleted = 0
    /// Postgres: day partitions of `calls` created and dropped.
    package var partitionsCreated = 0
    package var partitionsDropped = 0

    package init() {}
}
