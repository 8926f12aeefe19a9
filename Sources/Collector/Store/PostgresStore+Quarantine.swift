import NIOCore
import PostgresNIO

extension PostgresStore {
    package func quarantine(_ records: [QuarantinedRecord]) async throws {
        guard !records.isEmpty else { return }
        var bindings = PostgresBindings()
        bindings.append(records.map { ByteBuffer(bytes: $0.digest) })
        bindings.append(records.map { Int($0.receivedAtMicros) })
        bindings.append(PostgresNullableArray(records.map { $0.source.map(PostgresCallColumns.withoutNUL) }))
        bindings.append(PostgresNullableArray(records.map { $0.actionID.map(PostgresCallColumns.withoutNUL) }))
        bindings.append(records.map { PostgresCallColumns.withoutNUL($0.storedReason) })
        bindings.append(records.map { ByteBuffer(bytes: $0.record) })
        let query = PostgresQuery(
            unsafeSQL: """
                INSERT INTO quarantine (digest, received_at, source, action_id, reason, record)
                SELECT * FROM unnest($1::bytea[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::bytea[])
                ON CONFLICT (digest) DO NOTHING
                """, binds: bindings)
        try await bounded("quarantining records") { client in _ = try await client.query(query) }
    }

    package func quarantined(limit: Int) async throws -> (records: [QuarantinedRecord], total: Int) {
        let query: PostgresQuery = """
            SELECT received_at, source, action_id, reason, record FROM quarantine
            ORDER BY received_at DESC LIMIT \(limit)
            """
        let count: PostgresQuery = "SELECT count(*) FROM quarantine"
        return try await bounded("reading the quarantine") { client in
            var records: [QuarantinedRecord] = []
            for try await (at, source, actionID, reason, record) in try await client.query(query).decode(
                (Int64, String?, String?, String, ByteBuffer).self)
            {
                records.append(
                    QuarantinedRecord(
                        receivedAtMicros: at, source: source, actionID: actionID, reason: reason,
                        record: Array(record.readableBytesView)))
            }
            let total = try await client.query(count).decode(Int.self).first { _ in true } ?? 0
            return (records, total)
        }
    }
}
