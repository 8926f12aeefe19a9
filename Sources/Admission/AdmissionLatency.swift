import LedgerMetrics
import NIOCore
import Prometheus
import Synchronization

/// The histogram of admission round trips (ADMIT queued in the sidecar to its VERDICT read),
/// `agentledger_sidecar_admission_seconds`: fine buckets below a millisecond, where a healthy link lives.
package struct AdmissionLatency: Sendable {
    package static let name = "agentledger_sidecar_admission_seconds"
    package static let help = "ADMIT to VERDICT, as this sidecar waited for it."
    /// Upper bounds of the buckets (docs/operations.md, "Metrics"); a last, unbounded bucket follows.
    package static let bounds: [Duration] = [
        25, 50, 75, 100, 150, 200, 300, 400, 500, 750, 1_000, 2_000, 5_000, 10_000, 50_000, 100_000, 500_000, 1_000_000,
    ].map { .microseconds($0) }

    private static let boundsNanos = bounds.map(\.nanoseconds)

    let histogram: DurationHistogram
    /// The same round trips since the last `drainWindow()`, per bucket (the last: above every bound), for STATUS.
    private let window = WindowCounts(buckets: Self.bounds.count + 1)

    /// Registers the histogram in `registry`, the sidecar's.
    /// `name` and `help`: the sidecar's histogram unless a collector forwarding ADMITs to the enforcer names its own.
    package init(registry: PrometheusCollectorRegistry, name: String = Self.name, help: String = Self.help) {
        histogram = registry.makeDurationHistogram(descriptor: .init(name, help: help), buckets: Self.bounds)
    }

    package func record(_ elapsed: TimeAmount) {
        let nanos = max(0, elapsed.nanoseconds)
        histogram.record(.nanoseconds(nanos))
        window.add(Self.boundsNanos.firstIndex { nanos <= $0 } ?? Self.boundsNanos.count)
    }

    /// The round trips since the last call, and their median and 99th percentile in microseconds, each read as the
    /// upper bound of its bucket (so never under the real figure; beyond the last bound, twice it). Nil with none.
    package func drainWindow() -> (count: Int, p50Micros: Int64, p99Micros: Int64)? {
        let counts = window.drain()
        let total = counts.reduce(0, +)
        guard total > 0 else { return nil }
        func percentile(_ fraction: Double) -> Int64 {
            let rank = max(1, Int((Double(total) * fraction).rounded(.up)))
            var seen = 0
            for (index, count) in counts.enumerated() {
                seen += count
                if seen >= rank { return Self.boundMicros(index) }
            }
            return Self.boundMicros(counts.count - 1)
        }
        return (total, percentile(0.5), percentile(0.99))
    }

    private static func boundMicros(_ bucket: Int) -> Int64 {
        bucket < boundsNanos.count ? boundsNanos[bucket] / 1_000 : 2 * boundsNanos[boundsNanos.count - 1] / 1_000
    }
}

/// Counts per bucket, taken and zeroed together.
private final class WindowCounts: Sendable {
    private let counts: Mutex<[Int]>

    init(buckets: Int) {
        counts = Mutex(Array(repeating: 0, count: buckets))
    }

    func add(_ bucket: Int) {
        counts.withLock { $0[bucket] &+= 1 }
    }

    func drain() -> [Int] {
        counts.withLock { counts in
            defer { counts = Array(repeating: 0, count: counts.count) }
            return counts
        }
    }
}

extension Duration {
    fileprivate var nanoseconds: Int64 {
        let parts = components
        return parts.seconds * 1_000_000_000 + parts.attoseconds / 1_000_000_000
    }
}
