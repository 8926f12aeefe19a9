import LedgerProtocol
import Logging
import ServiceLifecycle
import Synchronization

/// The sidecars linked to this collector, as the fleet view shows them (docs/operations.md, "The fleet view"):
/// the ingest server tells it when a link is welcomed, when a frame arrives, when a STATUS arrives and when a link
/// closes; every `flushInterval` it writes what changed to the store, where every replica's `GET /api/fleet` reads it.
///
/// Bounded: one entry per source with an open link here, plus the entries of links closed since the last write.
/// A failed write keeps its rows for the next one; the view is then a few seconds late, never wrong for long.
package final class FleetRegistry: Service, Sendable {
    /// A sidecar heard from less recently than this is shown as silent. A sidecar sends STATUS every 10 s and PING
    /// every 15 s, so three missed reports make it silent, and a stopped sidecar shows as such within a minute.
    package static let silentAfter: Duration = .seconds(40)
    package static var silentAfterMicros: Int64 { Int64(silentAfter.components.seconds) * 1_000_000 }

    private struct Entry {
        var report: SidecarReport
        /// Links open here under this source (two sidecars may share a name; the row is theirs together).
        var links: Int
        var dirty: Bool
        /// The previous STATUS's send time and captured count, for the rate.
        var previous: (sentAt: UInt64, captured: UInt64)?
        /// The `lastSeenMicros` last written: a frame that only moves it is written once it is `seenGranularity` newer.
        var writtenSeen: Int64 = 0
    }

    /// How far a sidecar's last frame may be ahead of what the store says before it is written for that alone: the
    /// store is not rewritten for every PING and RECORDS frame of a busy fleet, and 10 s is well inside `silentAfter`.
    static let seenGranularity: Int64 = 10_000_000

    let store: any Store
    let collectorID: String
    let flushInterval: Duration
    let logger: Logger
    private let entries = Mutex<[String: Entry]>([:])

    package init(store: any Store, collectorID: String, flushInterval: Duration = .seconds(2), logger: Logger) {
        self.store = store
        self.collectorID = collectorID
        self.flushInterval = flushInterval
        self.logger = logger
    }

    /// A link was welcomed.
    package func linked(source: String, softwareVersion: String, protocolVersion: Int, peer: String, now: Int64) {
        entries.withLock { entries in
            if var entry = entries[source], entry.report.disconnectedAtMicros == nil {
                entry.links += 1
                entry.report.lastSeenMicros = now
                entry.dirty = true
                entries[source] = entry
                return
            }
            entries[source] = Entry(
                report: SidecarReport(
                    source: source, softwareVersion: softwareVersion, protocolVersion: protocolVersion,
                    collectorID: collectorID, peer: peer, linkedAtMicros: now, lastSeenMicros: now),
                links: 1, dirty: true)
        }
    }

    /// A frame arrived from the sidecar.
    package func seen(source: String, now: Int64) {
        entries.withLock { entries in
            guard let written = entries[source]?.writtenSeen else { return }
            entries[source]!.report.lastSeenMicros = now
            if now.subtractingReportingOverflow(written).partialValue >= Self.seenGranularity {
                entries[source]!.dirty = true
            }
        }
    }

    /// The sidecar sent STATUS.
    package func reported(source: String, status: SidecarStatus, now: Int64) {
        entries.withLock { entries in
            guard var entry = entries[source] else { return }
            if let sentAt = status[.sentAtMicros], let captured = status[.captured] {
                if let previous = entry.previous, sentAt > previous.sentAt, captured >= previous.captured {
                    let minutes = Double(sentAt - previous.sentAt) / 60_000_000
                    entry.report.callsPerMinute = Double(captured - previous.captured) / minutes
                } else if let previous = entry.previous, captured < previous.captured || sentAt <= previous.sentAt {
                    entry.report.callsPerMinute = nil  // the sidecar restarted under the same name
                }
                entry.previous = (sentAt, captured)
            }
            entry.report.status = status
            entry.report.lastSeenMicros = now
            entry.dirty = true
            entries[source] = entry
        }
    }

    /// A welcomed link closed.
    package func unlinked(source: String, now: Int64) {
        entries.withLock { entries in
            guard var entry = entries[source] else { return }
            entry.links -= 1
            if entry.links <= 0 { entry.report.disconnectedAtMicros = now }
            entry.dirty = true
            entries[source] = entry
        }
    }

    /// The sidecars linked here now.
    package var linkedSources: [String] {
        entries.withLock { entries in entries.filter { $0.value.links > 0 }.map(\.key).sorted() }
    }

    /// Writes what changed since the last write; entries of closed links are forgotten once written.
    package func flush() async {
        let reports = entries.withLock { entries -> [SidecarReport] in
            var reports: [SidecarReport] = []
            for (source, var entry) in entries where entry.dirty {
                reports.append(entry.report)
                entry.dirty = false
                entry.writtenSeen = entry.report.lastSeenMicros
                entries[source] = entry
            }
            return reports
        }
        guard !reports.isEmpty else { return }
        do {
            try await store.saveSidecars(reports)
            entries.withLock { entries in
                for report in reports where report.disconnectedAtMicros != nil {
                    if let entry = entries[report.source], !entry.dirty, entry.links <= 0 {
                        entries[report.source] = nil
                    }
                }
            }
        } catch {
            logger.warning("fleet view not saved; trying again", metadata: ["error": "\(error)"])
            entries.withLock { entries in
                for report in reports { entries[report.source]?.dirty = true }
            }
        }
    }

    package func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while true {
                try await Task.sleep(for: self.flushInterval)
                await self.flush()
            }
        }
        // Links still open at shutdown are closed by it: say so, so the view does not wait to call them silent.
        let now = WallClock.nowMicros()
        entries.withLock { entries in
            for source in entries.keys where entries[source]!.links > 0 {
                entries[source]!.links = 0
                entries[source]!.report.disconnectedAtMicros = now
                entries[source]!.dirty = true
            }
        }
        await flush()
    }
}
