/// What one model costs, in USD per million tokens.
package struct ModelPrice: Sendable, Equatable {
    package var input: Double
    package var output: Double
    /// Input tokens served from the prompt cache.
    package var cacheRead: Double
    /// Input tokens written to the prompt cache (Anthropic's five-minute cache; plain input where writes are free).
    package var cacheWrite: Double
    /// Input tokens written to Anthropic's one-hour cache: twice the input rate unless a price file says otherwise.
    package var cacheWriteOneHour: Double
    /// Reasoning (thinking) output tokens, where the price list sets their own rate; nil prices them as output.
    package var reasoning: Double?
    /// The rates that apply to the whole call once its prompt is longer than a threshold (Claude's and Gemini's
    /// long-context prices, LiteLLM's `*_above_200k_tokens` fields); nil when the model has one price at any length.
    package var longContext: LongContext?
    /// OpenAI's flex processing rates (`service_tier: "flex"` in the answer); nil prices such calls at the standard
    /// rates.
    package var flex: TierRates?
    /// OpenAI's priority processing rates (`service_tier: "priority"`); nil prices such calls at the standard rates.
    package var priority: TierRates?

    /// A processing tier's rates, in USD per million tokens. Cache writes and reasoning keep the model's rates.
    package struct TierRates: Sendable, Equatable {
        package var input: Double
        package var output: Double
        package var cacheRead: Double

        package init(input: Double, output: Double, cacheRead: Double) {
            self.input = input
            self.output = output
            self.cacheRead = cacheRead
        }

        /// OpenAI's published rule for flex processing: the Batch API's rates, half the standard ones.
        package static func half(of price: ModelPrice) -> TierRates {
            TierRates(
                input: ModelPrice.rate(price.input / 2), output: ModelPrice.rate(price.output / 2),
                cacheRead: ModelPrice.rate(price.cacheRead / 2))
        }
    }

    /// Rates for prompts above `thresholdTokens` input tokens (cached and cache-written tokens included): every
    /// token of such a call is billed at these rates, not only those past the threshold.
    package struct LongContext: Sendable, Equatable {
        package var thresholdTokens: Int
        package var input: Double
        package var output: Double
        package var cacheRead: Double
        package var cacheWrite: Double
        package var cacheWriteOneHour: Double

        package init(
            above thresholdTokens: Int, input: Double, output: Double, cacheRead: Double, cacheWrite: Double,
            cacheWriteOneHour: Double? = nil
        ) {
            self.thresholdTokens = thresholdTokens
            self.input = input
            self.output = output
            self.cacheRead = cacheRead
            self.cacheWrite = cacheWrite
            self.cacheWriteOneHour = cacheWriteOneHour ?? input * 2
        }
    }

    /// The highest rate a price file may give, in USD per million tokens: with token counts bounded by
    /// `TokenUsage.countRange`, no call can cost more than a few hundred million dollars, which nanodollar sums hold.
    package static let maximumRate = 100_000.0

    package init(
        input: Double, output: Double, cacheRead: Double, cacheWrite: Double, cacheWriteOneHour: Double? = nil,
        reasoning: Double? = nil, longContext: LongContext? = nil
    ) {
        self.input = input
        self.output = output
        self.cacheRead = cacheRead
        self.cacheWrite = cacheWrite
        self.cacheWriteOneHour = cacheWriteOneHour ?? input * 2
        self.reasoning = reasoning
        self.longContext = longContext
    }

    /// The rates for a call the upstream says it served in `tier` (`flex` or `priority`, where this price has rates
    /// for it; any other tier, or none, is the standard one). A tier's rates replace the standard ones whatever the
    /// prompt's length.
    package func forServiceTier(_ tier: String?) -> ModelPrice {
        let rates: TierRates?
        switch tier {
        case "flex": rates = flex
        case "priority": rates = priority
        default: rates = nil
        }
        guard let rates else { return self }
        var price = self
        price.input = rates.input
        price.output = rates.output
        price.cacheRead = rates.cacheRead
        price.longContext = nil
        price.flex = nil
        price.priority = nil
        return price
    }

    /// The rates for a call with `inputTokens` prompt tokens in all: the long-context ones above their threshold.
    /// The reasoning rate is the same at any length.
    package func atPromptLength(_ inputTokens: Int) -> ModelPrice {
        guard let longContext, inputTokens > longContext.thresholdTokens else { return self }
        return ModelPrice(
            input: longContext.input, output: longContext.output, cacheRead: longContext.cacheRead,
            cacheWrite: longContext.cacheWrite, cacheWriteOneHour: longContext.cacheWriteOneHour, reasoning: reasoning)
    }

    /// A rate in USD per million tokens to 9 decimals, so a derived or per-token rate carries no binary noise
    /// (`0.1 * 0.1` is 0.01, `2.5e-06 * 1e6` is 2.5).
    static func rate(_ value: Double) -> Double {
        (value * 1e9).rounded() / 1e9
    }

    /// USD from a sum of token counts times per-million rates, rounded to 10 decimal places: that sheds
    /// floating-point noise only, since a price has at most a few significant decimals.
    /// `inputTokens` at the input rate and `outputTokens` at the output rate, no cache discount: the worst case of a
    /// call before its usage is known.
    /// Above a long-context threshold the long-context rates apply; output at the higher of the output and reasoning
    /// rates, since any of it may be reasoning.
    package func cost(inputTokens: Int, outputTokens: Int) -> Double {
        let price = atPromptLength(inputTokens)
        let outputRate = max(price.output, price.reasoning ?? 0)
        return Self.dollars(
            fromTokensTimesRates: Double(max(inputTokens, 0)) * price.input + Double(max(outputTokens, 0)) * outputRate)
    }

    static func dollars(fromTokensTimesRates sum: Double) -> Double {
        (sum * 10_000).rounded() / 1e10
    }
}
