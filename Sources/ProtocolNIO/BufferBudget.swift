import Synchronization

/// Bytes all links' decoders may hold at once for frames not yet complete: each decoder reserves what it buffers
/// and releases it as frames complete or the link closes. A decoder that cannot reserve fails its link with
/// `BufferBudget.Exhausted`, so many slow links cannot together hold more than the budget.
package final class BufferBudget: Sendable {
    /// Thrown by a decoder whose link would take the buffered total past the budget.
    package struct Exhausted: Error, CustomStringConvertible {
        package let limit: Int
        package var description: String { "the collector already buffers \(limit) bytes of unfinished frames" }
    }

    package let limit: Int
    private let used = Atomic(0)

    package init(limit: Int) {
        self.limit = limit
    }

    /// Bytes currently reserved by all decoders.
    package var reserved: Int { used.load(ordering: .relaxed) }

    /// Takes `bytes` from the budget, or returns false (taking nothing) when that would exceed it.
    package func reserve(_ bytes: Int) -> Bool {
        used.reserve(bytes, limit: limit)
    }

    package func release(_ bytes: Int) {
        used.subtract(bytes, ordering: .relaxed)
    }
}

extension Atomic where Value == Int {
    /// Adds `amount` unless the sum would pass `limit` (or overflow): then adds nothing and returns false. Shared by
    /// the bounded counters of both halves (link buffers here, agent connections and bodies in the sidecar).
    package func reserve(_ amount: Int, limit: Int) -> Bool {
        var current = load(ordering: .relaxed)
        while true {
            let (next, overflow) = current.addingReportingOverflow(amount)
            guard !overflow, next <= limit else { return false }
            let (exchanged, original) = compareExchange(expected: current, desired: next, ordering: .relaxed)
            if exchanged { return true }
            current = original
        }
    }
}
