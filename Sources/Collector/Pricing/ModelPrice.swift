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

    /// The highest rate a price file may give, in USD per million tokens: with token counts bounded by
    /// `TokenUsage.countRange`, no call can cost more than a few hundred million dollars, which nanodollar sums hold.
    package static let maximumRate = 100_000.0

    package init(input: Double, output: Double, cacheRead: Double, cacheWrite: Double, cacheWriteOneHour: Double? = nil) {
        self.input = input
        self.output = output
        self.cacheRead = cacheRead
        self.cacheWrite = cacheWrite
        self.cacheWriteOneHour = cacheWriteOneHour ?? input * 2
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
    package func cost(inputTokens: Int, outputTokens: Int) -> Double {
        Self.dollars(fromTokensTimesRates: Double(max(inputTokens, 0)) * input + Double(max(outputTokens, 0)) * output)
    }

    static func dollars(fromTokensTimesRates sum: Double) -> Double {
        (sum * 10_000).rounded() / 1e10
    }
}
