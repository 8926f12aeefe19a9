import SQLiteNIO

/// Retention on SQLite (`Retention`): old calls are deleted a few thousand at a time, each step a transaction of its
/// own under the write lock, so a batch being stored waits for one step at most, never for the whole deletion.
extension SQLiteStore {
    /// Rows deleted per transaction.
    static let retentionStep = 2_000

    package func maintain(nowMicros: Int64, retention: Retention?) async throws -> MaintenanceResult {
        var result = MaintenanceResult()
        guard let retention else { return result }
        let cutoff = retention.cutoffMicros(now: nowMicros)
        // The calls and their search words, oldest first.
        while true {
            let deleted = try await writeTransaction { writer in
                let rows = try await writer.query(
                    "SELECT rowid FROM calls WHERE ts_micros < ? ORDER BY ts_micros LIMIT ?",
                    [.integer(Int(cutoff)), .integer(Self.retentionStep)])
                let ids = rows.compactMap { $0.column("rowid")?.integer }
                guard !ids.isEmpty else { return 0 }
                let list = ids.map(String.init).joined(separator: ", ")
                _ = try await writer.query("DELETE FROM calls_search WHERE rowid IN (\(list))")
                _ = try await writer.query("DELETE FROM calls WHERE rowid IN (\(list))")
                return ids.count
            }
            result.callsDeleted += deleted
            if deleted < Self.retentionStep { break }
        }
        result.sessionsDeleted = try await deleteInSteps("sessions", where: "ended_at < ?", cutoff)
        result.messagesDeleted = try await deleteInSteps(
            "messages", where: "last_used < ?", cutoff - Retention.messageTouchSlackMicros)
        result.quarantinedDeleted = try await deleteInSteps("quarantine", where: "received_at < ?", cutoff)
        return result
    }

    /// Deletes the rows of `table` matching `condition` (one `?`, bound to `bound`), a step at a time.
    private func deleteInSteps(_ table: String, where condition: String, _ bound: Int64) async throws -> Int {
        var total = 0
        while true {
            let deleted = try await writeTransaction { writer in
                let rows = try await writer.query(
                    "DELETE FROM \(table) WHERE rowid IN (SELECT rowid FROM \(table) WHERE \(condition) LIMIT ?)"
                        + " RETURNING 1", [.integer(Int(bound)), .integer(Self.retentionStep)])
                return rows.count
            }
            total += deleted
            if deleted < Self.retentionStep { return total }
        }
    }
}
