import Testing

@testable import Collector

/// Cost from token counts under each provider convention, in exact dollars at real models' list prices.
@Suite("Cost arithmetic")
struct TokenUsageTests {
    static func usage(
        _ convention: TokenUsage.Convention, input: Int?, output: Int?, read: Int? = nil, write: Int? = nil,
        oneHour: Int? = nil, reasoning: Int? = nil
    ) -> TokenUsage {
        var usage = TokenUsage(convention: convention)
        usage.input = input
        usage.output = output
        usage.cacheRead = read
        usage.cacheWrite = write
        usage.cacheWriteOneHour = oneHour
        usage.reasoning = reasoning
        return usage
    }

    static func price(_ model: String) throws -> ModelPrice {
        try #require(PriceTable.builtIn.price(for: model))
    }

    /// gpt-4o: 100 uncached x $2.50 + 1,000 cached x $1.25 + 50 x $10 per million.
    @Test func openAICachedTokensAreInsidePromptTokens() throws {
        let usage = Self.usage(.inputIncludesCache, input: 1100, output: 50, read: 1000)
        #expect(usage.totalInput == 1100)
        #expect(usage.cost(at: try Self.price("gpt-4o-2024-08-06")) == 0.002)
    }

    /// gpt-5: 464 x $1.25 + 1,536 cached x $0.125 + 1,200 output (1,000 of them reasoning) x $10 per million.
    @Test func reasoningTokensArePricedOnceAsOutput() throws {
        let usage = Self.usage(.inputIncludesCache, input: 2000, output: 1200, read: 1536, reasoning: 1000)
        #expect(usage.cost(at: try Self.price("gpt-5-2025-08-07")) == 0.012772)
        var record = CallRecord(actionID: "a", timestampMicros: 0)
        usage.apply(to: &record)
        #expect(record.tokensIn == 2000)
        #expect(record.tokensOut == 1200)
        #expect(record.tokensReasoning == 1000)
        #expect(record.tokensCacheRead == 1536)
    }

    /// claude-sonnet-4-5: 100 x $3 + 1,000 read x $0.30 + 200 written x $3.75 + 50 x $15 per million.
    @Test func anthropicCacheTokensAreOutsideInputTokens() throws {
        let usage = Self.usage(.inputExcludesCache, input: 100, output: 50, read: 1000, write: 200)
        #expect(usage.totalInput == 1300)
        #expect(usage.cost(at: try Self.price("claude-sonnet-4-5-20250929")) == 0.0021)
        var record = CallRecord(actionID: "a", timestampMicros: 0)
        usage.apply(to: &record)
        #expect(record.tokensIn == 1300)
        #expect(record.tokensCacheWrite == 200)
    }

    /// claude-opus-4-5: 10 x $5 + 20,000 read x $0.50 + 1,000 five-minute writes x $6.25 + 2,000 one-hour writes
    /// x $10 + 400 x $25 per million.
    @Test func anthropicOneHourCacheWritesCostTwiceTheInputRate() throws {
        let usage = Self.usage(.inputExcludesCache, input: 10, output: 400, read: 20_000, write: 3000, oneHour: 2000)
        #expect(usage.totalInput == 23_010)
        #expect(usage.cost(at: try Self.price("claude-opus-4-5-20251101")) == 0.0463)
    }

    @Test func oneHourWritesBeyondAllWritesAreCappedAtTheWrites() throws {
        let price = try Self.price("claude-haiku-4-5")
        let capped = Self.usage(.inputExcludesCache, input: 0, output: 0, write: 100, oneHour: 5000)
        let allOneHour = Self.usage(.inputExcludesCache, input: 0, output: 0, write: 100, oneHour: 100)
        #expect(capped.cost(at: price) == allOneHour.cost(at: price))
        #expect(capped.cost(at: price) == 0.0002)
    }

    /// deepseek-chat: 2,000 cache misses x $0.28 + 8,000 cache hits x $0.028 + 500 x $0.42 per million.
    @Test func deepSeekCacheHitsAreInsidePromptTokens() throws {
        let usage = Self.usage(.inputIncludesCache, input: 10_000, output: 500, read: 8000)
        #expect(usage.cost(at: try Self.price("deepseek/deepseek-chat")) == 0.000994)
    }

    /// gemini-2.5-flash over the OpenAI-compatible endpoint: 1,000 x $0.30 + 3,000 cached x $0.03 + 800 x $2.50.
    @Test func geminiCachedTokensAreInsidePromptTokens() throws {
        let usage = Self.usage(.inputIncludesCache, input: 4000, output: 800, read: 3000)
        #expect(usage.cost(at: try Self.price("gemini-2.5-flash")) == 0.00239)
    }

    /// 7 x $0.05 + 3 x $0.40 = 1.55 per million: kept to the last digit, not rounded to zero.
    @Test func aCheapCallKeepsItsPrecision() throws {
        let usage = Self.usage(.inputIncludesCache, input: 7, output: 3, read: 0)
        #expect(usage.cost(at: try Self.price("gpt-5-nano")) == 0.00000155)
    }

    @Test func aLargeCallIsExact() throws {
        // o1-pro: 180,000 x $150 + 100,000 x $600 per million.
        let usage = Self.usage(.inputIncludesCache, input: 180_000, output: 100_000)
        #expect(usage.cost(at: try Self.price("o1-pro")) == 87)
    }

    @Test func missingCountsCostNothingAndTotalsStayNil() {
        let price = ModelPrice(input: 1, output: 2, cacheRead: 0.1, cacheWrite: 1.25)
        let outputOnly = Self.usage(.inputExcludesCache, input: nil, output: 1_000_000)
        #expect(outputOnly.totalInput == nil)
        #expect(outputOnly.cost(at: price) == 2)
        #expect(Self.usage(.inputIncludesCache, input: nil, output: nil).isEmpty)
    }

    @Test func cachedCountAboveInputNeverGoesNegative() {
        let price = ModelPrice(input: 1, output: 2, cacheRead: 0.5, cacheWrite: 1)
        let usage = Self.usage(.inputIncludesCache, input: 100, output: 0, read: 300)
        #expect(usage.cost(at: price) == 0.00015)
    }
}
