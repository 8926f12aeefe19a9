/// What `/api/stats` returns: the same figures over the whole range, per time bucket, per model and per agent.
///
/// JSON shape (every `…Row` carries the figures of `CallStats.Figures`):
/// ```
/// {
///   "since": "2026-04-03T00:00:00.000000Z", "until": "2026-04-04T00:00:00.000000Z", "bucket": "hour",
///   "totals": {"spend_usd": 1.25, "calls": 10, "tokens_in": 1000, "tokens_out": 200, "errors": 1, "blocked": 1,
///              "unpriced_calls": 0, "latency_p50_ms": 12.5, "latency_p95_ms": 40.1, "latency_p99_ms": 48.9},
///   "buckets": [{"start": "2026-04-03T10:00:00.000000Z", "spend_usd": …, "calls": …, …,
///                "spend_by_model": [{"model_id": "gpt-4o", "spend_usd": …}]}],
///   "by_model": [{"model_id": "gpt-4o", "spend_usd": …, …}],
///   "by_agent": [{"agent_name": "writer", "spend_usd": …, …}]
/// }
/// ```
/// `buckets` are oldest first and only those with calls; `by_model` and `by_agent` are highest spend first, with
/// `null` for calls without a model or agent. A bucket's `spend_by_model` has the spend of the range's top
/// `bucketModels` models (in `by_model` order, those with calls in the bucket); the rest of its spend is other models'. `spend_usd` sums `cost_usd` (blocked calls cost nothing); `errors`
/// counts calls with a status >= 400, no status, or an outcome other than `completed`, blocked calls aside;
/// latency percentiles interpolate linearly (as Postgres `percentile_cont`) and are `null` without latencies.
package struct CallStats: Sendable, Equatable {
    /// The figures of one group of calls.
    package struct Figures: Sendable, Equatable {
        package var spendUSD = 0.0
        package var calls = 0
        package var tokensIn = 0
        package var tokensOut = 0
        package var errors = 0
        package var blocked = 0
        /// Calls with no known price (`CallRecord.isUnpriced`): `spendUSD` leaves them out.
        package var unpricedCalls = 0
        package var latencyP50MS: Double?
        package var latencyP95MS: Double?
        package var latencyP99MS: Double?

        package init() {}
    }

    /// One bucket: the figures of the calls from `startMicros` to the next bucket's start.
    package struct Bucket: Sendable, Equatable {
        package var startMicros: Int64
        package var figures: Figures
        /// The bucket's spend per model (`nil`: calls without one), every model with a call in the bucket.
        package var spendByModel: [String?: Double] = [:]
    }

    /// How many models (the top spenders of the range) each bucket's `spend_by_model` lists.
    package static let bucketModels = 6

    /// The figures of the calls of one model or agent (`nil`: calls without one).
    package struct Group: Sendable, Equatable {
        package var key: String?
        package var figures: Figures
    }

    package var query: StatsQuery
    package var totals: Figures
    package var buckets: [Bucket]
    package var byModel: [Group]
    package var byAgent: [Group]

    /// Puts the parts in the order the API promises, whatever order the store produced them in.
    init(query: StatsQuery, totals: Figures, buckets: [Bucket], byModel: [Group], byAgent: [Group]) {
        self.query = query
        self.totals = totals
        self.buckets = buckets.sorted { $0.startMicros < $1.startMicros }
        func ordered(_ groups: [Group]) -> [Group] {
            groups.sorted { a, b in
                if a.figures.spendUSD != b.figures.spendUSD { return a.figures.spendUSD > b.figures.spendUSD }
                if a.figures.calls != b.figures.calls { return a.figures.calls > b.figures.calls }
                return (a.key ?? "") < (b.key ?? "")
            }
        }
        self.byModel = ordered(byModel)
        self.byAgent = ordered(byAgent)
    }
}

extension CallStats: Encodable {
    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ string: String) { stringValue = string }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// One model's share of a bucket's spend.
    private struct ModelSpend: Encodable {
        var model: String?
        var spendUSD: Double

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: Key.self)
            try c.encode(model, forKey: Key("model_id"))
            try c.encode(spendUSD, forKey: Key("spend_usd"))
        }
    }

    /// One JSON object: an optional leading field, then the figures, then a bucket's spend per model.
    private struct Row: Encodable {
        var label: (name: String, value: String?)?
        var figures: Figures
        var models: [ModelSpend]?

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: Key.self)
            if let label { try c.encode(label.value, forKey: Key(label.name)) }
            try c.encode(figures.spendUSD, forKey: Key("spend_usd"))
            try c.encode(figures.calls, forKey: Key("calls"))
            try c.encode(figures.tokensIn, forKey: Key("tokens_in"))
            try c.encode(figures.tokensOut, forKey: Key("tokens_out"))
            try c.encode(figures.errors, forKey: Key("errors"))
            try c.encode(figures.blocked, forKey: Key("blocked"))
            try c.encode(figures.unpricedCalls, forKey: Key("unpriced_calls"))
            try c.encode(figures.latencyP50MS.map(CallRecord.milliseconds), forKey: Key("latency_p50_ms"))
            try c.encode(figures.latencyP95MS.map(CallRecord.milliseconds), forKey: Key("latency_p95_ms"))
            try c.encode(figures.latencyP99MS.map(CallRecord.milliseconds), forKey: Key("latency_p99_ms"))
            if let models { try c.encode(models, forKey: Key("spend_by_model")) }
        }
    }

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(ISOTimestamp.format(micros: query.sinceMicros), forKey: Key("since"))
        try c.encode(ISOTimestamp.format(micros: query.untilMicros), forKey: Key("until"))
        try c.encode(query.bucket.rawValue, forKey: Key("bucket"))
        try c.encode(Row(figures: totals), forKey: Key("totals"))
        let top = byModel.prefix(Self.bucketModels).map(\.key)
        try c.encode(
            buckets.map { bucket in
                Row(
                    label: ("start", ISOTimestamp.format(micros: bucket.startMicros)), figures: bucket.figures,
                    models: top.compactMap { model in bucket.spendByModel[model].map { ModelSpend(model: model, spendUSD: $0) } })
            },
            forKey: Key("buckets"))
        try c.encode(byModel.map { Row(label: ("model_id", $0.key), figures: $0.figures) }, forKey: Key("by_model"))
        try c.encode(byAgent.map { Row(label: ("agent_name", $0.key), figures: $0.figures) }, forKey: Key("by_agent"))
    }
}
