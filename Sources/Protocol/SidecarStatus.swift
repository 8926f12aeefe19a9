/// What a sidecar reports about itself every few seconds on a version-2 link (STATUS, docs/protocol.md): the figures
/// the collector's fleet view shows. Counters are cumulative since the sidecar started, so a lost or late report
/// loses nothing; the collector derives rates from two reports.
///
/// Encoded as tagged fields like a captured call (tag u8, length u32, value), every value a `u64`: a later sidecar
/// can add fields that this decoder skips. Absent fields decode as nil.
package struct SidecarStatus: Sendable, Equatable {
    package enum Tag: UInt8, CaseIterable, Sendable {
        case startedAtMicros = 1
        case sentAtMicros = 2
        case captured = 3
        case acknowledged = 4
        case dropped = 5
        case droppedUnconfirmed = 6
        case queued = 7
        case spoolBytes = 8
        case upstreamUnreachable = 9
        case refusedByCollector = 10
        case admissionUnavailable = 11
        case admissions = 12
        case admissionP50Micros = 13
        case admissionP99Micros = 14
        case reconnects = 15

        /// The field's name in JSON (the fleet API and the collector's `sidecars` table).
        package var name: String {
            switch self {
            case .startedAtMicros: "started_at_micros"
            case .sentAtMicros: "sent_at_micros"
            case .captured: "calls_captured"
            case .acknowledged: "calls_acknowledged"
            case .dropped: "calls_dropped"
            case .droppedUnconfirmed: "calls_dropped_unconfirmed"
            case .queued: "calls_queued"
            case .spoolBytes: "spool_bytes"
            case .upstreamUnreachable: "upstream_unreachable"
            case .refusedByCollector: "refused_by_collector"
            case .admissionUnavailable: "admission_unavailable"
            case .admissions: "admissions"
            case .admissionP50Micros: "admission_p50_micros"
            case .admissionP99Micros: "admission_p99_micros"
            case .reconnects: "reconnects"
            }
        }
    }

    private var values: [Tag: UInt64] = [:]

    package init() {}

    package init(_ values: [Tag: UInt64]) {
        self.values = values
    }

    package subscript(tag: Tag) -> UInt64? {
        get { values[tag] }
        set { values[tag] = newValue }
    }

    /// Every field set, in tag order.
    package var fields: [(tag: Tag, value: UInt64)] {
        Tag.allCases.compactMap { tag in values[tag].map { (tag, $0) } }
    }

    package func encodeFields(into w: inout ByteWriter) {
        for (tag, value) in fields {
            w.write(tag.rawValue)
            w.write(UInt32(8))
            w.write(value)
        }
    }

    package static func decodeFields(_ r: inout ByteReader) throws(ProtocolError) -> SidecarStatus {
        var status = SidecarStatus()
        while !r.isAtEnd {
            let rawTag = try r.readUInt8("status field tag")
            let value = try r.readBytes("status field \(rawTag)")
            guard let tag = Tag(rawValue: rawTag) else { continue }  // a newer sidecar's field: skip it
            guard status.values[tag] == nil else { throw .malformed("status field \(tag) appears twice") }
            var v = ByteReader(value)
            let number = try v.readUInt64("status field \(tag)")
            try v.expectEnd("status field \(tag)")
            status.values[tag] = number
        }
        return status
    }
}
