/// How many output tokens each model's calls really produced lately, for admission's expected cost: the 95th
/// percentile of a model's last `capacity` settled calls. Pure state, bounded: `capacity` counts per model and at
/// most `maximumModels` models (beyond that the history starts over, as the price cache does).
struct OutputHistory: Sendable {
    /// Calls remembered per model.
    static let capacity = 128
    /// Fewer calls than this and the model has no estimate: the policy's `expectedOutputTokens` stands in.
    static let minimumSamples = 8
    static let maximumModels = 1024
    /// The estimate is recomputed after this many new calls (and whenever it has none yet).
    static let refreshEvery = 8

    fileprivate struct Samples: Sendable {
        var counts: [Int32] = []
        /// Where the next count goes once `counts` is full.
        var next = 0
        var estimate: Int?
        var sinceEstimate = 0
    }

    private var models: [String: Samples] = [:]

    var modelCount: Int { models.count }

    /// Remembers one settled call's output tokens. Counts come from providers: negative ones are ignored, huge
    /// ones clamp to what 32 bits hold.
    mutating func record(model: String, outputTokens: Int) {
        guard outputTokens >= 0, !model.isEmpty else { return }
        if models[model] == nil, models.count >= Self.maximumModels { models = [:] }
        let count = Int32(clamping: outputTokens)
        models[model, default: Samples()].add(count)
    }

    /// The 95th percentile of the model's recent output tokens, or nil with too few calls to say.
    func estimate(model: String) -> Int? {
        models[model]?.estimate
    }
}

extension OutputHistory.Samples {
    fileprivate mutating func add(_ count: Int32) {
        if counts.count < OutputHistory.capacity {
            counts.append(count)
        } else {
            counts[next] = count
            next = (next + 1) % OutputHistory.capacity
        }
        sinceEstimate += 1
        guard counts.count >= OutputHistory.minimumSamples,
            estimate == nil || sinceEstimate >= OutputHistory.refreshEvery
        else { return }
        let sorted = counts.sorted()
        // Nearest rank: the smallest count at or above 95% of the calls.
        let rank = (sorted.count * 95 + 99) / 100
        estimate = Int(sorted[max(rank - 1, 0)])
        sinceEstimate = 0
    }
}
