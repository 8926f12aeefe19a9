import Prometheus

/// How one counter appears in the Prometheus text exposition: the family it belongs to and, for a family with
/// several series, the labels of its own series.
package struct CounterMetric: Sendable {
    /// The family name, `agentledger_..._total`.
    package var name: String
    /// One line that says what the family counts; the same for every series of the family.
    package var help: String
    /// The series' labels (`[("type", "budget_exceeded")]`), or none for a family of one series.
    package var labels: [(String, String)]

    package init(_ name: String, _ help: String, labels: [(String, String)] = []) {
        self.name = name
        self.help = help
        self.labels = labels
    }
}

/// The names of a set of counters: one case per counter, cases of one family next to each other.
package protocol CounterName: CaseIterable, Sendable, RawRepresentable where RawValue == Int, AllCases == [Self] {
    var metric: CounterMetric { get }
}

/// A set of monotonic counters named by `Name`, safe to bump from any thread: the one counter type of the sidecar
/// and the collector. Each counter is a swift-prometheus `Counter` registered in `registry`, the registry of the
/// component instance that owns it (docs/operations.md, "Metrics"), so `/metrics` renders it with the rest of that
/// component's metrics and two components in one process (`up`, tests) never mix.
///
/// `add` is one relaxed atomic add on the counter's own storage: no lock, no allocation, no formatting.
package final class Counters<Name: CounterName>: Sendable {
    package let registry: PrometheusCollectorRegistry
    private let series: [Counter]
    /// Each series' sample line up to its value (`name{labels} `), to find it in the registry's text.
    private let samplePrefixes: [[UInt8]]

    /// `registry`: the owning component's; a new one when the counters stand alone (tests).
    package init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        series = Name.allCases.map { name in
            let metric = name.metric
            return registry.makeCounter(descriptor: .init(metric.name, help: metric.help), labels: metric.labels)
        }
        samplePrefixes = Name.allCases.map { name in
            let metric = name.metric
            let labels = metric.labels.map { #"\#($0)="\#($1)""# }.joined(separator: ",")
            return Array((labels.isEmpty ? "\(metric.name) " : "\(metric.name){\(labels)} ").utf8)
        }
    }

    /// Adds `amount` to a counter; zero and negative amounts are ignored (a counter only goes up). Wrapping at 2^63
    /// is out of reach: at a billion a second it would take 292 years.
    package func add(_ name: Name, _ amount: Int = 1) {
        guard amount > 0 else { return }
        series[name.rawValue].increment(by: Int64(amount))
    }

    /// The counter's value, read back from the registry's text: for tests and occasional reads, not hot paths.
    package func value(_ name: Name) -> Int {
        var text: [UInt8] = []
        registry.emit(into: &text)
        return Self.sample(samplePrefixes[name.rawValue], in: text).flatMap { Int($0) } ?? 0
    }

    /// The value of the sample line that starts with `prefix`, as written.
    static func sample(_ prefix: [UInt8], in text: [UInt8]) -> String? {
        var lineStart = text.startIndex
        while lineStart < text.endIndex {
            let lineEnd = text[lineStart...].firstIndex(of: UInt8(ascii: "\n")) ?? text.endIndex
            let line = text[lineStart..<lineEnd]
            if line.starts(with: prefix) {
                return String(decoding: line.dropFirst(prefix.count), as: UTF8.self)
            }
            lineStart = lineEnd + 1
        }
        return nil
    }
}

extension MetricNameDescriptor {
    /// A metric named as it appears in the exposition, unit and `_total` included (`agentledger_..._seconds`):
    /// the names are listed whole in docs/operations.md, "Metrics", so they are written whole here too.
    package init(_ name: String, help: String) {
        self.init(metricName: name, unitName: "", helpText: help)
    }
}

extension PrometheusCollectorRegistry {
    /// Everything registered, in the Prometheus text exposition format (version 0.0.4).
    package func prometheusText() -> String {
        var text: [UInt8] = []
        emit(into: &text)
        return String(decoding: text, as: UTF8.self)
    }
}

/// The content type of the Prometheus text exposition format every metrics endpoint answers with.
package let prometheusContentType = "text/plain; version=0.0.4; charset=utf-8"
