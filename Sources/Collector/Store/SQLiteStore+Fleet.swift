import SQLiteNIO

extension SQLiteStore {
    package func saveSidecars(_ reports: [SidecarReport]) async throws {
        guard !reports.isEmpty else { return }
        try await writeTransaction { writer in
            for report in reports {
                _ = try await writer.query(
                    """
                    INSERT INTO sidecars (source, software_version, protocol_version, collector_id, peer, linked_at,
                        last_seen, disconnected_at, calls_per_minute, status)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (source) DO UPDATE SET software_version = excluded.software_version,
                        protocol_version = excluded.protocol_version, collector_id = excluded.collector_id,
                        peer = excluded.peer, linked_at = excluded.linked_at,
                        last_seen = max(sidecars.last_seen, excluded.last_seen),
                        disconnected_at = excluded.disconnected_at, calls_per_minute = excluded.calls_per_minute,
                        status = excluded.status
                    WHERE excluded.linked_at >= sidecars.linked_at
                    """,
                    [
                        .text(report.source), .text(report.softwareVersion), .integer(report.protocolVersion),
                        .text(report.collectorID), .text(report.peer), .integer(Int(report.linkedAtMicros)),
                        .integer(Int(report.lastSeenMicros)),
                        report.disconnectedAtMicros.map { .integer(Int($0)) } ?? .null,
                        report.callsPerMinute.map { .float($0) } ?? .null, .text(report.statusJSON),
                    ])
            }
            _ = try await writer.query(
                "DELETE FROM sidecars WHERE disconnected_at < ?",
                [.integer(Int(reports[0].lastSeenMicros - SidecarReport.keptMicros))])
        }
    }

    package func sidecars() async throws -> [SidecarReport] {
        let rows = try await reader.query(
            """
            SELECT source, software_version, protocol_version, collector_id, peer, linked_at, last_seen, disconnected_at,
                calls_per_minute, status
            FROM sidecars ORDER BY source LIMIT ?
            """, [.integer(SidecarReport.maximumListed)])
        return rows.compactMap { row in
            guard let source = row.column("source")?.string else { return nil }
            return SidecarReport(
                source: source, softwareVersion: row.column("software_version")?.string ?? "",
                protocolVersion: row.column("protocol_version")?.integer ?? 1,
                collectorID: row.column("collector_id")?.string ?? "", peer: row.column("peer")?.string ?? "",
                linkedAtMicros: Int64(row.column("linked_at")?.saturatingInteger ?? 0),
                lastSeenMicros: Int64(row.column("last_seen")?.saturatingInteger ?? 0),
                disconnectedAtMicros: row.column("disconnected_at")?.integer.map(Int64.init),
                callsPerMinute: row.column("calls_per_minute")?.double,
                status: SidecarReport.status(fromJSON: row.column("status")?.string))
        }
    }
}
