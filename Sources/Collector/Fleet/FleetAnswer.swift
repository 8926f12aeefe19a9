import LedgerProtocol

/// What `GET /api/fleet` answers (docs/reference.md, "GET /api/fleet"): every sidecar the collectors of the store know,
/// with its state at the time of the answer, and how many are in each state.
struct FleetAnswer: Encodable {
    let sidecars: [Sidecar]
    let linked: Int
    let silent: Int
    let disconnected: Int
    let silentAfterSeconds: Int

    init(_ reports: [SidecarReport], now: Int64) {
        let silentAfter = FleetRegistry.silentAfterMicros
        sidecars = reports.map { Sidecar($0, state: $0.state(now: now, silentAfterMicros: silentAfter), now: now) }
        linked = sidecars.count { $0.state == .linked }
        silent = sidecars.count { $0.state == .silent }
        disconnected = sidecars.count { $0.state == .disconnected }
        silentAfterSeconds = Int(silentAfter / 1_000_000)
    }

    enum CodingKeys: String, CodingKey {
        case sidecars, linked, silent, disconnected
        case silentAfterSeconds = "silent_after_seconds"
    }

    /// One sidecar: who, where and since when, then the figures of its last STATUS (absent on a version-1 link).
    struct Sidecar: Encodable {
        let report: SidecarReport
        let state: SidecarReport.State
        let now: Int64

        init(_ report: SidecarReport, state: SidecarReport.State, now: Int64) {
            self.report = report
            self.state = state
            self.now = now
        }

        struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(_ name: String) { stringValue = name }
            init?(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: Key.self)
            let r = report
            try c.encode(r.source, forKey: Key("source"))
            try c.encode(state, forKey: Key("state"))
            try c.encode(r.softwareVersion, forKey: Key("software_version"))
            try c.encode(r.protocolVersion, forKey: Key("protocol_version"))
            try c.encode(r.collectorID, forKey: Key("collector_id"))
            try c.encode(r.peer, forKey: Key("peer"))
            try c.encode(ISOTimestamp.format(micros: r.linkedAtMicros), forKey: Key("linked_at"))
            try c.encode(ISOTimestamp.format(micros: r.lastSeenMicros), forKey: Key("last_seen"))
            try c.encode(
                Double(max(0, now.subtractingReportingOverflow(r.lastSeenMicros).partialValue) / 100_000) / 10,
                forKey: Key("seconds_since_seen"))
            try c.encode(r.disconnectedAtMicros.map { ISOTimestamp.format(micros: $0) }, forKey: Key("disconnected_at"))
            try c.encode(r.callsPerMinute.map { ($0 * 10).rounded() / 10 }, forKey: Key("calls_per_minute"))
            let status = r.status
            try c.encode(
                status[.startedAtMicros].map { ISOTimestamp.format(micros: Int64(clamping: $0)) }, forKey: Key("started_at"))
            for tag in [
                SidecarStatus.Tag.captured, .acknowledged, .dropped, .droppedUnconfirmed, .queued, .spoolBytes,
                .upstreamUnreachable, .refusedByCollector, .admissionUnavailable, .admissions, .reconnects,
            ] {
                try c.encode(status[tag], forKey: Key(tag.name))
            }
            // Latencies in milliseconds, as the rest of the API gives them.
            try c.encode(status[.admissionP50Micros].map { Double($0) / 1_000 }, forKey: Key("admission_p50_ms"))
            try c.encode(status[.admissionP99Micros].map { Double($0) / 1_000 }, forKey: Key("admission_p99_ms"))
        }
    }
}
