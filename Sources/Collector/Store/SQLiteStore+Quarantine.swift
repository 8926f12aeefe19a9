import NIOCore
import SQLiteNIO

extension SQLiteStore {
    package func quarantine(_ records: [QuarantinedRecord]) async throws {
        guard !records.isEmpty else { return }
        try await writeTransaction { writer in
            for record in records {
                _ = try await writer.query(
                    """
                    INSERT INTO quarantine (digest, received_at, source, action_id, reason, record)
                    VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (digest) DO NOTHING
                    """,
                    [
                        .blob(ByteBuffer(bytes: record.digest)), .integer(Int(record.receivedAtMicros)),
                        record.source.map { .text($0) } ?? .null, record.actionID.map { .text($0) } ?? .null,
                        .text(record.storedReason), .blob(ByteBuffer(bytes: record.record)),
                    ])
            }
        }
    }

    package func quarantined(limit: Int) async throws -> (records: [QuarantinedRecord], total: Int) {
        let total = try await reader.query("SELECT count(*) AS n FROM quarantine").first?.column("n")?.saturatingInteger ?? 0
        let rows = try await reader.query(
            "SELECT received_at, source, action_id, reason, record FROM quarantine ORDER BY received_at DESC LIMIT ?",
            [.integer(limit)])
        let records = rows.map { row in
            QuarantinedRecord(
                receivedAtMicros: Int64(row.column("received_at")?.saturatingInteger ?? 0),
                source: row.column("source")?.string, actionID: row.column("action_id")?.string,
                reason: row.column("reason")?.string ?? "",
                record: row.column("record")?.blob.map { Array($0.readableBytesView) } ?? [])
        }
        return (records, total)
    }
}
