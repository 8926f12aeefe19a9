import LedgerProtocol

/// What `GET /api/fleet` answers (docs/reference.md, "GET /api/fleet"): every sidecar the collectors of the store know,
/// with its state at the time of the answer, and how many are in each state. Written with `JSONWriter`: a fleet of a
/// thousand sidecars is 25,000 fields, where `JSONEncoder` took most of the answer's time.
enum FleetAnswer {
    static func json(_ reports: [SidecarReport], now: Int64) -> JSONValue {
        let silentAfter = FleetRegistry.silentAfterMicros
        var counts: [SidecarReport.State: Int] = [:]
        let sidecars: [JSONValue] = reports.map { report in
            let state = report.state(now: now, silentAfterMicros: silentAfter)
            counts[state, default: 0] += 1
            return sidecar(report, state: state, now: now)
        }
        return .object([
            "sidecars": .array(sidecars), "linked": .int(Int64(counts[.linked] ?? 0)),
            "silent": .int(Int64(counts[.silent] ?? 0)), "disconnected": .int(Int64(counts[.disconnected] ?? 0)),
            "silent_after_seconds": .int(silentAfter / 1_000_000),
        ])
    }

    /// One sidecar: who, where and since when, then the figures of its last STATUS (null on a version-1 link).
    static func sidecar(_ r: SidecarReport, state: SidecarReport.State, now: Int64) -> JSONValue {
        func time(_ micros: Int64?) -> JSONValue { micros.map { .string(ISOTimestamp.format(micros: $0)) } ?? .null }
        func number(_ tag: SidecarStatus.Tag) -> JSONValue { r.status[tag].map { .int(Int64(clamping: $0)) } ?? .null }
        func millis(_ tag: SidecarStatus.Tag) -> JSONValue { r.status[tag].map { .double(Double($0) / 1_000) } ?? .null }
        let sinceSeen = max(0, now.subtractingReportingOverflow(r.lastSeenMicros).partialValue)
        var object: [String: JSONValue] = [
            "source": .string(r.source), "state": .string(state.rawValue), "software_version": .string(r.softwareVersion),
            "protocol_version": .int(Int64(r.protocolVersion)), "collector_id": .string(r.collectorID),
            "peer": .string(r.peer), "linked_at": time(r.linkedAtMicros), "last_seen": time(r.lastSeenMicros),
            "seconds_since_seen": .double(Double(sinceSeen / 100_000) / 10), "disconnected_at": time(r.disconnectedAtMicros),
            "calls_per_minute": r.callsPerMinute.map { .double(($0 * 10).rounded() / 10) } ?? .null,
            "started_at": time(r.status[.startedAtMicros].map { Int64(clamping: $0) }),
            // Latencies in milliseconds, as the rest of the API gives them.
            "admission_p50_ms": millis(.admissionP50Micros), "admission_p99_ms": millis(.admissionP99Micros),
        ]
        for tag in [
            SidecarStatus.Tag.captured, .acknowledged, .dropped, .droppedUnconfirmed, .queued, .spoolBytes,
            .upstreamUnreachable, .refusedByCollector, .admissionUnavailable, .admissions, .reconnects,
        ] {
            object[tag.name] = number(tag)
        }
        return .object(object)
    }
}
