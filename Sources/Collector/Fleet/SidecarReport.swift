import Foundation
import LedgerProtocol

/// One sidecar as the fleet view knows it (`GET /api/fleet`, docs/reference.md): who it is, which collector it is
/// linked to and since when, when it was last heard from, and the figures of its last STATUS. Every collector writes
/// the sidecars linked to it into the store's `sidecars` table, so every replica's view shows the whole fleet.
package struct SidecarReport: Sendable, Equatable {
    /// How the sidecar looks from here.
    package enum State: String, Sendable, Hashable {
        /// Linked, and heard from within `FleetRegistry.silentAfter`.
        case linked
        /// Its link looks open but nothing came on it for longer than `FleetRegistry.silentAfter`: the sidecar (or the
        /// collector it is linked to) is stopped, hung or cut off.
        case silent
        /// Its link closed.
        case disconnected
    }

    /// `AGENTLEDGER_SOURCE` of the sidecar (the pod name in Kubernetes), as its HELLO named it.
    package var source: String
    package var softwareVersion: String
    /// The protocol version its link speaks: 1 sends no STATUS, so only link times are known.
    package var protocolVersion: Int
    /// The collector the sidecar is (or was last) linked to.
    package var collectorID: String
    /// The sidecar's address as the collector saw it.
    package var peer: String
    /// When the current (or last) link was welcomed, µs since the epoch. A newer link's row replaces an older one's.
    package var linkedAtMicros: Int64
    /// The last frame from the sidecar, µs since the epoch.
    package var lastSeenMicros: Int64
    /// When the link closed; nil while it is open.
    package var disconnectedAtMicros: Int64?
    /// Calls captured per minute between its last two STATUS reports; nil before the second.
    package var callsPerMinute: Double?
    /// Its last STATUS; empty on a version-1 link.
    package var status: SidecarStatus

    package init(
        source: String, softwareVersion: String, protocolVersion: Int, collectorID: String, peer: String,
        linkedAtMicros: Int64, lastSeenMicros: Int64, disconnectedAtMicros: Int64? = nil, callsPerMinute: Double? = nil,
        status: SidecarStatus = SidecarStatus()
    ) {
        self.source = source
        self.softwareVersion = softwareVersion
        self.protocolVersion = protocolVersion
        self.collectorID = collectorID
        self.peer = peer
        self.linkedAtMicros = linkedAtMicros
        self.lastSeenMicros = lastSeenMicros
        self.disconnectedAtMicros = disconnectedAtMicros
        self.callsPerMinute = callsPerMinute
        self.status = status
    }

    /// Rows of sidecars disconnected longer than this (7 days) are deleted when the fleet is next saved.
    package static let keptMicros: Int64 = 7 * 86_400 * 1_000_000
    /// At most this many sidecars are listed.
    package static let maximumListed = 10_000

    /// The state at `now` (µs since the epoch).
    package func state(now: Int64, silentAfterMicros: Int64) -> State {
        if disconnectedAtMicros != nil { return .disconnected }
        return now.subtractingReportingOverflow(lastSeenMicros).partialValue > silentAfterMicros ? .silent : .linked
    }

    /// The STATUS figures as the `status` column holds them: a JSON object of the fields set.
    package var statusJSON: String {
        var object: [String: JSONValue] = [:]
        for (tag, value) in status.fields { object[tag.name] = .int(Int64(clamping: value)) }
        return JSONWriter.text(of: .object(object))
    }

    /// The figures back from the `status` column; fields this build does not know, or that are negative, are left out.
    package static func status(fromJSON text: String?) -> SidecarStatus {
        guard let text, let object = try? JSONDecoder().decode([String: Int64].self, from: Data(text.utf8)) else {
            return SidecarStatus()
        }
        var status = SidecarStatus()
        for tag in SidecarStatus.Tag.allCases {
            guard let value = object[tag.name], value >= 0 else { continue }
            status[tag] = UInt64(value)
        }
        return status
    }
}
