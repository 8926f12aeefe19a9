import Foundation
import PostgresNIO

/// Day partitions of `calls` and retention on Postgres (docs/operations.md, "Retention and partitions").
///
/// Each UTC day of calls is a partition `calls_YYYYMMDD`, made from a month back to a few days ahead; `calls_default`
/// takes calls timed outside every day partition (far ahead, or older than a month), and a store upgraded from
/// before partitions keeps its calls in `calls_unpartitioned`, a partition up to the day of the upgrade. Retention
/// drops a day's partition whole, once the day is older than the retention, and deletes old rows of the other two a
/// step at a time.
extension PostgresStore {
    /// Days ahead of today that have their partition made (a failed round is made up by the next ones).
    static let partitionDaysAhead = 3
    /// Days before today that have their partition too (unless older than the retention), so that calls stored late
    /// (a spool replayed after days without a collector, a backfill) land in their day: moving them out of the default
    /// partition later would lock it against every late call while it is scanned. Older calls go to the default.
    static let partitionDaysBehind = 31
    /// Rows deleted per statement and transaction.
    static let retentionStep = 5_000
    /// Held for the partition changes, so that collectors of one store make and drop partitions one at a time.
    static let partitionLockKey = 0x6167_6c64_6179_7321  // "agldays!"

    /// One partition of `calls`: its table, and its range in µs since the epoch (nil: unbounded; both nil: default).
    struct CallsPartition: Equatable {
        var table: String
        var from: Int64?
        var to: Int64?
        var isDefault: Bool { from == nil && to == nil }
    }

    package func maintain(nowMicros: Int64, retention: Retention?) async throws -> MaintenanceResult {
        let today = Retention.dayStart(nowMicros)
        let cutoff = retention?.cutoffMicros(now: nowMicros)
        let logger = self.logger
        var result = try await bounded("partition upkeep", timeout: .seconds(120)) { client in
            try await client.withTransaction(logger: logger) { connection in
                try await Self.upkeepPartitions(on: connection, today: today, cutoff: cutoff, logger: logger)
            }
        }
        guard let cutoff else { return result }
        // What is left before the cutoff lies in the default and upgraded partitions: deleted a step at a time.
        result.callsDeleted += try await deleteInSteps(
            "old calls",
            """
            WITH gone AS (
                DELETE FROM calls WHERE (ts_micros, action_id) IN (
                    SELECT ts_micros, action_id FROM calls WHERE ts_micros < $1 LIMIT \(Self.retentionStep))
                RETURNING action_id
            ),
            ids AS (DELETE FROM call_ids WHERE action_id IN (SELECT action_id FROM gone))
            SELECT count(*) FROM gone
            """, cutoff)
        result.sessionsDeleted = try await deleteInSteps(
            "old sessions", Self.stepDelete("sessions", key: "session_id", where: "ended_at < $1"), cutoff)
        result.messagesDeleted = try await deleteInSteps(
            "old messages", Self.stepDelete("messages", key: "hash", where: "last_used < $1"),
            cutoff - Retention.messageTouchSlackMicros)
        result.quarantinedDeleted = try await deleteInSteps(
            "old quarantined records", Self.stepDelete("quarantine", key: "digest", where: "received_at < $1"), cutoff)
        return result
    }

    /// In a transaction: makes the partitions that are missing from `partitionDaysBehind` days back (or the cutoff,
    /// if later) to `partitionDaysAhead` days ahead, and drops those that end at or before `cutoff`. Each change
    /// takes locks on `calls` that stop its writers, so one that cannot have them within a second gives up until the
    /// next round. Another collector doing the same meanwhile: nothing is done.
    static func upkeepPartitions(
        on connection: PostgresConnection, today: Int64, cutoff: Int64?, logger: Logger
    ) async throws -> MaintenanceResult {
        var changes = MaintenanceResult()
        let locked = try await connection.query(
            "SELECT pg_try_advisory_xact_lock(\(partitionLockKey))", logger: logger
        ).decode(Bool.self).first { _ in true }
        guard locked == true else { return changes }
        try await connection.query("SET LOCAL lock_timeout = '1s'", logger: logger)
        var partitions = try await Self.partitions(on: connection, logger: logger)
        let first = max(-Int64(partitionDaysBehind), cutoff.map { ($0 - today) / Retention.dayMicros } ?? .min)
        for day in first...Int64(partitionDaysAhead) {
            let from = today + day * Retention.dayMicros
            let to = from + Retention.dayMicros
            let overlaps = partitions.contains { partition in
                !partition.isDefault && (partition.from ?? .min) < to && (partition.to ?? .max) > from
            }
            guard !overlaps else { continue }
            let table = partitionName(dayStart: from)
            try await createPartition(table, from: from, to: to, on: connection, logger: logger)
            partitions.append(CallsPartition(table: table, from: from, to: to))
            changes.partitionsCreated += 1
        }
        guard let cutoff else { return changes }
        for partition in partitions where !partition.isDefault && (partition.to ?? .max) <= cutoff {
            try await connection.query(
                PostgresQuery(
                    unsafeSQL: "DELETE FROM call_ids USING \(partition.table) gone WHERE call_ids.action_id = gone.action_id"),
                logger: logger)
            let count =
                try await connection.query(
                    PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(partition.table)"), logger: logger
                ).decode(Int.self).first { _ in true } ?? 0
            try await connection.query(PostgresQuery(unsafeSQL: "DROP TABLE \(partition.table)"), logger: logger)
            changes.callsDeleted += count
            changes.partitionsDropped += 1
        }
        return changes
    }

    /// Deletes one step of `table`'s rows matching `condition` and counts them.
    private static func stepDelete(_ table: String, key: String, where condition: String) -> String {
        """
        WITH gone AS (
            DELETE FROM \(table) WHERE \(key) IN (SELECT \(key) FROM \(table) WHERE \(condition) LIMIT \(retentionStep))
            RETURNING 1
        )
        SELECT count(*) FROM gone
        """
    }

    /// Runs `sql` (one bind, `bound`; answers how many rows it deleted) until a step deletes less than a whole step.
    private func deleteInSteps(_ what: String, _ sql: String, _ bound: Int64) async throws -> Int {
        var total = 0
        while true {
            var binds = PostgresBindings()
            binds.append(bound)
            let query = PostgresQuery(unsafeSQL: sql, binds: binds)
            let deleted = try await bounded("retention: deleting \(what)") { client in
                try await client.query(query).decode(Int.self).first { _ in true } ?? 0
            }
            total += deleted
            if deleted < Self.retentionStep { return total }
        }
    }

    /// `calls_YYYYMMDD` of the UTC day starting at `dayStart`.
    static func partitionName(dayStart: Int64) -> String {
        let date = Date(timeIntervalSince1970: TimeInterval(dayStart / 1_000_000))
        let parts = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: date)
        return String(format: "calls_%04d%02d%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
    }

    /// The partitions of `calls` with their ranges.
    static func partitions(on connection: PostgresConnection, logger: Logger) async throws -> [CallsPartition] {
        let rows = try await connection.query(
            """
            SELECT c.relname::text, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i
            JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'calls'::regclass
            """, logger: logger)
        var partitions: [CallsPartition] = []
        for try await (table, bound) in rows.decode((String, String).self) {
            partitions.append(try parsePartition(table: table, bound: bound))
        }
        return partitions
    }

    /// A partition from its bound as Postgres prints it: `DEFAULT`, or `FOR VALUES FROM ('1') TO (MAXVALUE)`.
    static func parsePartition(table: String, bound: String) throws -> CallsPartition {
        if bound == "DEFAULT" { return CallsPartition(table: table, from: nil, to: nil) }
        func value(after marker: String) throws -> Int64? {
            guard let start = bound.range(of: marker + " (")?.upperBound,
                let end = bound[start...].firstIndex(of: ")")
            else { throw StoreError("partition \(table) has a bound this collector cannot read: \(bound)") }
            let text = bound[start..<end].trimmingCharacters(in: CharacterSet(charactersIn: "'"))
            if text == "MINVALUE" || text == "MAXVALUE" { return nil }
            guard let number = Int64(text) else {
                throw StoreError("partition \(table) has a bound this collector cannot read: \(bound)")
            }
            return number
        }
        return CallsPartition(table: table, from: try value(after: "FROM"), to: try value(after: "TO"))
    }

    /// Makes the day partition `table`. Calls of that day already in the default partition (timed ahead when they
    /// were stored) move into it first, since a new partition may not take rows the default holds.
    static func createPartition(
        _ table: String, from: Int64, to: Int64, on connection: PostgresConnection, logger: Logger
    ) async throws {
        let range = "ts_micros >= \(from) AND ts_micros < \(to)"
        let waiting =
            try await connection.query(
                PostgresQuery(unsafeSQL: "SELECT EXISTS (SELECT 1 FROM calls_default WHERE \(range))"), logger: logger
            ).decode(Bool.self).first { _ in true } ?? false
        guard waiting else {
            try await connection.query(
                PostgresQuery(unsafeSQL: "CREATE TABLE \(table) PARTITION OF calls FOR VALUES FROM (\(from)) TO (\(to))"),
                logger: logger)
            return
        }
        let columns = (PostgresCallColumns.stored.map(\.name) + ["search"]).joined(separator: ", ")
        for statement in [
            "CREATE TABLE \(table) (LIKE calls INCLUDING DEFAULTS INCLUDING GENERATED INCLUDING STATISTICS)",
            "WITH moved AS (DELETE FROM calls_default WHERE \(range) RETURNING \(columns))"
                + " INSERT INTO \(table) (\(columns)) SELECT \(columns) FROM moved",
            "ALTER TABLE calls ATTACH PARTITION \(table) FOR VALUES FROM (\(from)) TO (\(to))",
        ] {
            try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
        }
    }
}
