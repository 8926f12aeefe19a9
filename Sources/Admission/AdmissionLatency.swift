import LedgerMetrics
import NIOCore
import Prometheus

/// The histogram of admission round trips (ADMIT queued in the sidecar to its VERDICT read),
/// `agentledger_sidecar_admission_seconds`: fine buckets below a millisecond, where a healthy link lives.
package struct AdmissionLatency: Sendable {
    package static let name = "agentledger_sidecar_admission_seconds"
    package static let help = "ADMIT to VERDICT, as this sidecar waited for it."
    /// Upper bounds of the buckets (docs/operations.md, "Metrics"); a last, unbounded bucket follows.
    package static let bounds: [Duration] = [
        25, 50, 75, 100, 150, 200, 300, 400, 500, 750, 1_000, 2_000, 5_000, 10_000, 50_000, 100_000, 500_000, 1_000_000,
    ].map { .microseconds($0) }

    let histogram: DurationHistogram

    /// Registers the histogram in `registry`, the sidecar's.
    /// `name` and `help`: the sidecar's histogram unless a collector forwarding ADMITs to the enforcer names its own.
    package init(registry: PrometheusCollectorRegistry, name: String = Self.name, help: String = Self.help) {
        histogram = registry.makeDurationHistogram(descriptor: .init(name, help: help), buckets: Self.bounds)
    }

    package func record(_ elapsed: TimeAmount) {
        histogram.record(.nanoseconds(max(0, elapsed.nanoseconds)))
    }
}
