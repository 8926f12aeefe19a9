/// Folds figures of (bucket, model, agent) groups into `CallStats` in Swift, percentiles included, for a store
/// without percentile functions (SQLite).
struct StatsAccumulator {
    /// Sums so far and every latency seen, for the percentiles at the end.
    private struct Partial {
        var figures = CallStats.Figures()
        var latencies: [Double] = []

        mutating func add(_ other: CallStats.Figures, latencies more: [Double]) {
            figures.spendUSD = Money.sum(figures.spendUSD, other.spendUSD)
            figures.calls += other.calls
            figures.tokensIn += other.tokensIn
            figures.tokensOut += other.tokensOut
            figures.errors += other.errors
            figures.blocked += other.blocked
            figures.unpricedCalls += other.unpricedCalls
            latencies += more
        }

        func finished() -> CallStats.Figures {
            var figures = figures
            let sorted = latencies.sorted()
            figures.latencyP50MS = StatsAccumulator.percentile(0.5, ofSorted: sorted)
            figures.latencyP95MS = StatsAccumulator.percentile(0.95, ofSorted: sorted)
            figures.latencyP99MS = StatsAccumulator.percentile(0.99, ofSorted: sorted)
            return figures
        }
    }

    private var totals = Partial()
    private var buckets: [Int64: Partial] = [:]
    private var models: [String?: Partial] = [:]
    private var agents: [String?: Partial] = [:]
    private var bucketModels: [Int64: [String?: Double]] = [:]

    mutating func add(
        bucket: Int64, model: String?, agent: String?, figures: CallStats.Figures, latencies: [Double]
    ) {
        totals.add(figures, latencies: latencies)
        buckets[bucket, default: Partial()].add(figures, latencies: latencies)
        models[model, default: Partial()].add(figures, latencies: latencies)
        agents[agent, default: Partial()].add(figures, latencies: latencies)
        bucketModels[bucket, default: [:]][model, default: 0] = Money.sum(
            bucketModels[bucket]?[model] ?? 0, figures.spendUSD)
    }

    func stats(for query: StatsQuery) -> CallStats {
        CallStats(
            query: query, totals: totals.finished(),
            buckets: buckets.map {
                CallStats.Bucket(
                    startMicros: $0.key, figures: $0.value.finished(), spendByModel: bucketModels[$0.key] ?? [:])
            },
            byModel: models.map { CallStats.Group(key: $0.key, figures: $0.value.finished()) },
            byAgent: agents.map { CallStats.Group(key: $0.key, figures: $0.value.finished()) })
    }

    /// The `p` quantile with linear interpolation between the closest ranks, as Postgres `percentile_cont`.
    static func percentile(_ p: Double, ofSorted values: [Double]) -> Double? {
        guard let first = values.first else { return nil }
        guard values.count > 1 else { return first }
        let position = p * Double(values.count - 1)
        let lower = Int(position.rounded(.down))
        let upper = min(lower + 1, values.count - 1)
        return values[lower] + (values[upper] - values[lower]) * (position - Double(lower))
    }
}
