import Synchronization

/// How one counter appears in the Prometheus text exposition: the family it belongs to and, for a family with
/// several series, the labels of its own series.
package struct CounterMetric: Sendable {
    /// The family name, `agentledger_..._total`.
    package var name: String
    /// One line that says what the family counts.
    package var help: String
    /// The series' labels without braces (`type="budget_exceeded"`), or nil for a family of one series.
    package var labels: String?

    package init(_ name: String, _ help: String, labels: String? = nil) {
        self.name = name
        self.help = help
        self.labels = labels
    }
}

/// The names of a set of counters: one case per counter, cases of one family next to each other.
package protocol CounterName: CaseIterable, Sendable, RawRepresentable where RawValue == Int, AllCases == [Self] {
    var metric: CounterMetric { get }
}

/// A set of monotonic counters named by `Name`, safe to bump from any thread. The one counter type of the sidecar
/// and the collector (`/metrics`, `/agentledger/metrics`). Counts saturate instead of trapping.
package final class Counters<Name: CounterName>: Sendable {
    private let values: Mutex<[Int]>

    package init() {
        values = Mutex([Int](repeating: 0, count: Name.allCases.count))
    }

    package func add(_ name: Name, _ amount: Int = 1) {
        values.withLock { values in
            let (sum, overflow) = values[name.rawValue].addingReportingOverflow(amount)
            values[name.rawValue] = overflow ? (amount > 0 ? .max : .min) : sum
        }
    }

    package func value(_ name: Name) -> Int {
        values.withLock { $0[name.rawValue] }
    }

    /// Every counter as Prometheus text: `# HELP` and `# TYPE` once per family, then its series.
    package func prometheusText() -> String {
        let snapshot = values.withLock { $0 }
        var out = ""
        var family: String?
        for name in Name.allCases {
            let metric = name.metric
            if metric.name != family {
                family = metric.name
                out += "# HELP \(metric.name) \(metric.help)\n# TYPE \(metric.name) counter\n"
            }
            let series = metric.labels.map { "\(metric.name){\($0)}" } ?? metric.name
            out += "\(series) \(snapshot[name.rawValue])\n"
        }
        return out
    }
}
