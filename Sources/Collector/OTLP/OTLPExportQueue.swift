import DequeModule

/// What one unit of the export queue holds, counted in spans.
package protocol OTLPExportUnit: Sendable {
    var spanCount: Int { get }
}

/// The spans waiting for export, in units (`OTLPExporter.Queued`: a committed batch's spans, encoded, or its records
/// for OTLP/JSON), at most `capacity` spans in all: a unit that finds no room for all its spans is dropped (and
/// counted by the caller), the way OpenTelemetry's batch span processor drops, so a slow or absent backend costs memory
/// up to the bound and nothing more. Pure: no locks, no clock.
package struct OTLPExportQueue<Element: OTLPExportUnit>: Sendable {
    /// The most spans waiting.
    package let capacity: Int
    /// Spans waiting.
    package private(set) var count = 0
    private var waiting: Deque<Element> = []

    package init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// Adds the units that fit, in order; returns how many spans were dropped.
    package mutating func push(_ units: some Sequence<Element>) -> Int {
        var dropped = 0
        for unit in units {
            if unit.spanCount > capacity - count {
                dropped += unit.spanCount
            } else {
                waiting.append(unit)
                count += unit.spanCount
            }
        }
        return dropped
    }

    /// The oldest units holding at most `limit` spans together (the oldest one alone when it holds more), removed
    /// from the queue.
    package mutating func take(_ limit: Int) -> [Element] {
        var taken: [Element] = []
        var spans = 0
        while let next = waiting.first, taken.isEmpty || spans + next.spanCount <= limit {
            taken.append(waiting.removeFirst())
            spans += next.spanCount
        }
        count -= spans
        return taken
    }

    /// Empties the queue; returns how many spans it held.
    package mutating func removeAll() -> Int {
        defer {
            waiting.removeAll()
            count = 0
        }
        return count
    }
}
