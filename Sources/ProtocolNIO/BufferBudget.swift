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
        var current = used.load(ordering: .relaxed)
        while true {
            let (next, overflow) = current.addingReportingOverflow(bytes)
            guard !overflow, next <= limit else { return false }
            let (exchanged, original) = used.compareExchange(
                expected: current, desired: next, ordering: .relaxed)
            if exchanged { return true }
            current = original
        }
    }

    package func release(_ bytes: Int) {
        used.subtract(bytes, ordering: .relaxed)
    }
}
