import DequeModule

/// The spans waiting for export (`OTLPExporter.Queued`: encoded, or a call's record for OTLP/JSON), at most `capacity`
/// of them: one that finds the queue full is dropped (and counted by the caller), the way OpenTelemetry's batch span
/// processor drops, so a slow or absent backend costs memory up to the bound and nothing more. Pure: no locks, no clock.
package struct OTLPExportQueue<Element: Sendable>: Sendable {
    package let capacity: Int
    private var waiting: Deque<Element> = []

    package init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    package var count: Int { waiting.count }

    /// Adds what fits; returns how many were dropped.
    package mutating func push(_ records: some Collection<Element>) -> Int {
        let room = max(0, capacity - waiting.count)
        waiting.append(contentsOf: records.prefix(room))
        return max(0, records.count - room)
    }

    /// The oldest `limit` spans, removed from the queue.
    package mutating func take(_ limit: Int) -> [Element] {
        let taken = Array(waiting.prefix(max(0, limit)))
        waiting.removeFirst(taken.count)
        return taken
    }

    /// Empties the queue; returns how many calls it held.
    package mutating func removeAll() -> Int {
        defer { waiting.removeAll() }
        return waiting.count
    }
}
