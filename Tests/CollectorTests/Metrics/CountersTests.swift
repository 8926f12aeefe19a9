import LedgerMetrics
import Prometheus
import Testing

@testable import Collector

@Suite("Counters")
struct CountersTests {
    enum Sample: Int, CounterName {
        case alone, budget, rate

        var metric: CounterMetric {
            switch self {
            case .alone: CounterMetric("test_alone_total", "One series.")
            case .budget: CounterMetric("test_refusals_total", "Refusals by type.", labels: [("type", "budget")])
            case .rate: CounterMetric("test_refusals_total", "Refusals by type.", labels: [("type", "rate")])
            }
        }
    }

    /// The text split into families, each `# HELP`, `# TYPE`, then its samples sorted: the registry writes families
    /// and the series of a family in no fixed order.
    static func families(_ text: String) -> [String: [String]] {
        var families: [String: [String]] = [:]
        var current = ""
        for line in text.split(separator: "\n") {
            if line.hasPrefix("# HELP ") {
                current = String(line.split(separator: " ")[2])
                #expect(families[current] == nil, "one block per family: \(current)")
                families[current] = [String(line)]
            } else {
                families[current, default: []].append(String(line))
            }
        }
        return families.mapValues { Array($0.prefix(2)) + $0.dropFirst(2).sorted() }
    }

    @Test func familiesAreWrittenOnceWithEachSeries() {
        let counters = Counters<Sample>()
        counters.add(.alone)
        counters.add(.rate, 3)
        #expect(counters.registry.prometheusText().hasSuffix("\n"))
        #expect(
            Self.families(counters.registry.prometheusText()) == [
                "test_alone_total": [
                    "# HELP test_alone_total One series.", "# TYPE test_alone_total counter", "test_alone_total 1",
                ],
                "test_refusals_total": [
                    "# HELP test_refusals_total Refusals by type.", "# TYPE test_refusals_total counter",
                    #"test_refusals_total{type="budget"} 0"#, #"test_refusals_total{type="rate"} 3"#,
                ],
            ])
        #expect(counters.value(.alone) == 1 && counters.value(.budget) == 0 && counters.value(.rate) == 3)
    }

    @Test func onlyPositiveAmountsCount() {
        let counters = Counters<Sample>()
        counters.add(.budget, 0)
        counters.add(.budget, -1)
        counters.add(.alone, .min)
        #expect(counters.value(.budget) == 0 && counters.value(.alone) == 0)
        counters.add(.budget, .max)
        #expect(counters.value(.budget) == .max)
    }

    @Test func eachComponentInstanceHasItsOwnRegistry() {
        let first = Counters<Sample>()
        let second = Counters<Sample>()
        first.add(.alone, 2)
        #expect(first.value(.alone) == 2 && second.value(.alone) == 0)
        // Two sets of counters on one registry are the same series.
        let shared = Counters<Sample>(registry: first.registry)
        shared.add(.alone)
        #expect(first.value(.alone) == 3)
    }

    @Test func theCollectorsMetricsShareOneRegistry() async throws {
        let registry = PrometheusCollectorRegistry()
        let counters = CollectorCounters(registry: registry)
        let enforcement = EnforcementCounters(registry: registry)
        let access = AccessCounters(registry: registry)
        let alerts = AlertCounters(registry: registry)
        try await StoreKind.sqlite.withStore { store in
            // One committed batch: one observation of the commit histogram.
            _ = try await IngestPipeline(normalizer: Normalizer(), store: store, counters: counters).commit([])
        }
        counters.add(.recordsStored, 4)
        counters.add(.otlpSpansOther, 2)
        enforcement.add(.refusedRate)
        access.add(.origin)
        alerts.add(.sent)
        let families = Self.families(registry.prometheusText())
        #expect(families["agentledger_records_stored_total"]?.last == "agentledger_records_stored_total 4")
        #expect(
            families["agentledger_otlp_spans_received_total"]?.contains(#"agentledger_otlp_spans_received_total{kind="other"} 2"#)
                == true)
        #expect(
            families["agentledger_refusals_total"]?.contains(#"agentledger_refusals_total{type="rate_limit_exceeded"} 1"#) == true
        )
        #expect(
            families["agentledger_http_refused_total"]?.contains(#"agentledger_http_refused_total{reason="origin"} 1"#) == true)
        #expect(families["agentledger_alerts_sent_total"]?.last == "agentledger_alerts_sent_total 1")
        let commit = families["agentledger_ingest_commit_seconds"] ?? []
        #expect(commit.dropFirst().first == "# TYPE agentledger_ingest_commit_seconds histogram")
        #expect(commit.contains(#"agentledger_ingest_commit_seconds_bucket{le="10.0"} 1"#))
        #expect(commit.contains(#"agentledger_ingest_commit_seconds_bucket{le="+Inf"} 1"#))
        #expect(commit.contains("agentledger_ingest_commit_seconds_count 1"))
        // Every family says what it is; every counter ends in _total.
        for (name, lines) in families {
            #expect(name.hasPrefix("agentledger_"))
            #expect(lines.count > 2 && lines[0].count > "# HELP \(name) ".count, "\(name) has no help")
            if lines[1].hasSuffix(" counter") { #expect(name.hasSuffix("_total")) }
        }
    }
}
