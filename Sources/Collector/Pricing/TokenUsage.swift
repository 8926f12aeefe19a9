/// Token counts as a provider reported them, with the convention that says what its input count includes.
struct TokenUsage: Sendable, Equatable {
    /// How a wire format counts input tokens.
    enum Convention: Sendable, Equatable {
        /// `prompt_tokens` already includes the cached tokens.
        case inputIncludesCache
        /// `input_tokens` excludes cache reads and cache writes (Anthropic).
        case inputExcludesCache
    }

    var convention: Convention
    /// The input count exactly as reported.
    var input: Int?
    /// Includes reasoning (thinking) tokens.
    var output: Int?
    var cacheRead: Int?
    var cacheWrite: Int?
    /// The part of `cacheWrite` that went to Anthropic's one-hour cache.
    var cacheWriteOneHour: Int?
    var reasoning: Int?
    /// Counts the provider sent that were not token counts (see `read(_:from:name:)`), for the record's error detail.
    var rejected: [String] = []

    init(convention: Convention) {
        self.convention = convention
    }

    var isEmpty: Bool { input == nil && output == nil && cacheRead == nil && cacheWrite == nil }
    /// No count at all, not even a rejected one.
    var isUnreported: Bool { isEmpty && rejected.isEmpty }

    /// Every input token, cached or not: the record's `tokens_in`.
    var totalInput: Int? {
        switch convention {
        case .inputIncludesCache:
            return input
        case .inputExcludesCache:
            if input == nil && cacheRead == nil && cacheWrite == nil { return nil }
            return Self.sum(input, cacheRead, cacheWrite)
        }
    }

    /// The sum of the counts present, saturating: counts read from JSON are bounded by `countRange`, so this never
    /// saturates for them, but a sum must not trap whatever a caller puts in.
    static func sum(_ counts: Int?...) -> Int {
        counts.reduce(0) { total, count in
            let (sum, overflow) = total.addingReportingOverflow(count ?? 0)
            return overflow ? ((count ?? 0) < 0 ? .min : .max) : sum
        }
    }

    /// USD, each kind of token at its own rate: cached input at the cache-read rate (inside `input` or beside it,
    /// as the convention says, never counted twice), cache writes at the write rates, reasoning inside `output`.
    /// A prompt longer than the model's long-context threshold bills every token at the long-context rates; reasoning
    /// tokens (part of `output`) at the reasoning rate where the price sets one.
    func cost(at price: ModelPrice) -> Double {
        let price = price.atPromptLength(max(totalInput ?? 0, 0))
        let read = Double(cacheRead ?? 0)
        let write = Double(cacheWrite ?? 0)
        let oneHour = Double(min(max(cacheWriteOneHour ?? 0, 0), cacheWrite ?? 0))
        let uncached: Double
        switch convention {
        case .inputIncludesCache: uncached = max(Double(input ?? 0) - read - write, 0)
        case .inputExcludesCache: uncached = Double(input ?? 0)
        }
        let sum =
            uncached * price.input + read * price.cacheRead + (write - oneHour) * price.cacheWrite
            + oneHour * price.cacheWriteOneHour + outputCost(at: price)
        return ModelPrice.dollars(fromTokensTimesRates: sum)
    }

    /// Output tokens times their rates: reasoning tokens (at most all of the output) at the reasoning rate when there is
    /// one, the rest at the output rate.
    private func outputCost(at price: ModelPrice) -> Double {
        let all = Double(max(output ?? 0, 0))
        guard let rate = price.reasoning else { return all * price.output }
        let thinking = min(Double(max(reasoning ?? 0, 0)), all)
        return (all - thinking) * price.output + thinking * rate
    }

    /// Writes the counts into the record's token fields.
    func apply(to record: inout CallRecord) {
        record.tokensIn = totalInput
        record.tokensOut = output
        record.tokensCacheRead = cacheRead
        record.tokensCacheWrite = cacheWrite
        record.tokensReasoning = reasoning
    }
}
