import LedgerMetrics
import Testing

@Suite("Counters")
struct CountersTests {
    enum Sample: Int, CounterName {
        case alone, budget, rate

        var metric: CounterMetric {
            switch self {
            case .alone: CounterMetric("test_alone_total", "One series.")
            case .budget: CounterMetric("test_refusals_total", "Refusals by type.", labels: #"type="budget""#)
            case .rate: CounterMetric("test_refusals_total", "Refusals by type.", labels: #"type="rate""#)
            }
        }
    }

    @Test func familiesAreWrittenOnceWithEachSeries() {
        let counters = Counters<Sample>()
        counters.add(.alone)
        counters.add(.rate, 3)
        #expect(
            counters.prometheusText() == """
                # HELP test_alone_total One series.
                # TYPE test_alone_total counter
                test_alone_total 1
                # HELP test_refusals_total Refusals by type.
                # TYPE test_refusals_total counter
                test_refusals_total{type="budget"} 0
                test_refusals_total{type="rate"} 3

                """)
    }

    @Test func countsSaturateInsteadOfTrapping() {
        let counters = Counters<Sample>()
        counters.add(.budget, .max)
        counters.add(.budget, 5)
        #expect(counters.value(.budget) == .max)
        counters.add(.alone, .min)
        counters.add(.alone, -1)
        #expect(counters.value(.alone) == .min)
    }
}
