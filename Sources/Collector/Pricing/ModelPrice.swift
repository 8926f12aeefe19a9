/// What one model costs, in USD per million tokens.
package struct ModelPrice: Sendable, Equatable {
    package var input: Double
    package var output: Double
    /// Input tokens served from the prompt cache.
    package var cacheRead: Double
    /// Input tokens written to the prompt cache (Anthropic's five-minute cache; OpenAI charges plain input).
    package var cacheWrite: Double

    package init(input: Double, output: Double, cacheRead: Double, cacheWrite: Double) {
        self.input = input
        self.output = output
        self.cacheRead = cacheRead
        self.cacheWrite = cacheWrite
    }

    /// Anthropic's one-hour cache writes cost twice the input rate.
    package var cacheWriteOneHour: Double { input * 2 }
}
