import PostgresNIO

extension PostgresStore {
    package func saveSidecars(_ reports: [SidecarReport]) async throws {
        guard !reports.isEmpty else { return }
        try await bounded("saving the fleet's sidecars") { client in
            try await client.withTransaction(logger: self.logger) { connection in
                for report in reports {
                    _ = try await connection.query(Self.upsertSidecar(report), logger: self.logger)
                }
                _ = try await connection.query(
                    "DELETE FROM sidecars WHERE disconnected_at < \(reports[0].lastSeenMicros - SidecarReport.keptMicros)",
                    logger: self.logger)
            }
        }
    }

    /// A newer link's row is never overwritten by an older one's: a sidecar that moved to another collector stays
    /// linked there when the collector it left writes that its link closed.
    private static func upsertSidecar(_ report: SidecarReport) -> PostgresQuery {
        let text = PostgresCallColumns.withoutNUL
        return """
            INSERT INTO sidecars (source, software_version, protocol_version, collector_id, peer, linked_at, last_seen,
                disconnected_at, calls_per_minute, status)
            VALUES (\(text(report.source)), \(text(report.softwareVersion)), \(report.protocolVersion),
                \(text(report.collectorID)), \(text(report.peer)), \(report.linkedAtMicros), \(report.lastSeenMicros),
                \(report.disconnectedAtMicros), \(report.callsPerMinute), \(report.statusJSON))
            ON CONFLICT (source) DO UPDATE SET software_version = excluded.software_version,
                protocol_version = excluded.protocol_version, collector_id = excluded.collector_id, peer = excluded.peer,
                linked_at = excluded.linked_at, last_seen = greatest(sidecars.last_seen, excluded.last_seen),
                disconnected_at = excluded.disconnected_at, calls_per_minute = excluded.calls_per_minute,
                status = excluded.status
            WHERE excluded.linked_at >= sidecars.linked_at
            """
    }

    package func sidecars() async throws -> [SidecarReport] {
        let query: PostgresQuery = """
            SELECT source, software_version, protocol_version, collector_id, peer, linked_at, last_seen, disconnected_at,
                calls_per_minute, status
            FROM sidecars ORDER BY source LIMIT \(SidecarReport.maximumListed)
            """
        return try await bounded("reading the fleet's sidecars") { client in
            var reports: [SidecarReport] = []
            let rows = try await client.query(query).decode(
                (String, String, Int, String, String, Int64, Int64, Int64?, Double?, String).self)
            for try await (source, version, proto, collector, peer, linked, seen, disconnected, perMinute, status) in rows {
                reports.append(
                    SidecarReport(
                        source: source, softwareVersion: version, protocolVersion: proto, collectorID: collector,
                        peer: peer, linkedAtMicros: linked, lastSeenMicros: seen, disconnectedAtMicros: disconnected,
                        callsPerMinute: perMinute, status: SidecarReport.status(fromJSON: status)))
            }
            return reports
        }
    }
}
