import Testing

@testable import Collector

/// Cost from token counts under each provider convention.
@Suite("Cost arithmetic")
struct TokenUsageTests {
    static func usage(
        _ convention: TokenUsage.Convention, input: Int?, output: Int?, read: Int? = nil, write: Int? = nil
    ) -> TokenUsage {
        var usage = TokenUsage(convention: convention)
        usage.input = input
        usage.output = output
        usage.cacheRead = read
        usage.cacheWrite = write
        return usage
    }

    @Test func openAICachedTokensAreInsidePromptTokens() throws {
        let price = try #require(PriceTable.builtIn.price(for: "gpt-4o"))
        let usage = Self.usage(.inputIncludesCache, input: 1100, output: 50, read: 1000)
        #expect(usage.totalInput == 1100)
        #expect(abs(usage.cost(at: price) - 0.002) < 1e-12)
    }

    @Test func anthropicCacheTokensAreOutsideInputTokens() throws {
        let price = try #require(PriceTable.builtIn.price(for: "claude-sonnet-4"))
        let usage = Self.usage(.inputExcludesCache, input: 100, output: 50, read: 1000, write: 200)
        #expect(usage.totalInput == 1300)
        #expect(abs(usage.cost(at: price) - 0.0021) < 1e-12)
    }

    @Test func aCheapCallKeepsItsPrecision() throws {
        let price = try #require(PriceTable.builtIn.price(for: "gpt-5-nano"))
        let usage = Self.usage(.inputIncludesCache, input: 7, output: 3, read: 0)
        // 7 x 0.05 + 3 x 0.40 = 1.55 per million.
        #expect(usage.cost(at: price) == 0.00000155)
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
