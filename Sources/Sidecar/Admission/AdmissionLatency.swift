import NIOCore

/// A histogram of admission round trips (ADMIT queued in the sidecar to its VERDICT read), for
/// `agentledger_sidecar_admission_seconds`: fine buckets below a millisecond, where a healthy link lives.
package struct AdmissionLatency: Sendable, Equatable {
    /// Upper bounds of the buckets, in microseconds; a last, unbounded bucket follows.
    package static let boundsMicros: [Int64] = [
        25, 50, 75, 100, 150, 200, 300, 400, 500, 750, 1_000, 2_000, 5_000, 10_000, 50_000, 100_000, 500_000, 1_000_000,
    ]

    /// Counts per bucket (not cumulative), one more than `boundsMicros`.
    package private(set) var counts = [Int](repeating: 0, count: boundsMicros.count + 1)
    package private(set) var sumMicros: Int64 = 0

    package init() {}

    package var count: Int { counts.reduce(0, +) }

    package mutating func record(_ elapsed: TimeAmount) {
        let micros = max(0, elapsed.nanoseconds / 1_000)
        sumMicros += micros
        counts[Self.boundsMicros.firstIndex { micros <= $0 } ?? Self.boundsMicros.count] += 1
    }

    /// The Prometheus text of the histogram, under `name`.
    package func prometheusText(name: String, help: String) -> String {
        var out = "# HELP \(name) \(help)\n# TYPE \(name) histogram\n"
        var cumulative = 0
        for (index, bound) in Self.boundsMicros.enumerated() {
            cumulative += counts[index]
            out += "\(name)_bucket{le=\"\(Double(bound) / 1_000_000)\"} \(cumulative)\n"
        }
        cumulative += counts[Self.boundsMicros.count]
        out += "\(name)_bucket{le=\"+Inf\"} \(cumulative)\n"
        out += "\(name)_sum \(Double(sumMicros) / 1_000_000)\n\(name)_count \(cumulative)\n"
        return out
    }
}
