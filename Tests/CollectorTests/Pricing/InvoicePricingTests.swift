import Testing

@testable import Collector

/// Prices that match the invoice: reasoning at its own rate, long-context tiers, fine-tuned models. Each expected
/// figure is worked out by hand from the provider's published rates in the comment above it.
@Suite("Invoice pricing rules")
struct InvoicePricingTests {
    static func usage(
        _ convention: TokenUsage.Convention = .inputIncludesCache, input: Int?, output: Int?, read: Int? = nil,
        write: Int? = nil, reasoning: Int? = nil
    ) -> TokenUsage {
        var usage = TokenUsage(convention: convention)
        usage.input = input
        usage.output = output
        usage.cacheRead = read
        usage.cacheWrite = write
        usage.reasoning = reasoning
        return usage
    }

    /// A LiteLLM entry with its own reasoning rate: 1,000 in x $1.10 + 600 plain output x $4.40 + 2,000 reasoning x
    /// $7.20 per million = $0.01814 (as plain output it would be $0.01254).
    @Test func reasoningTokensTakeTheirOwnRateWhereTheFileSetsOne() throws {
        let table = try PricingFileTests.table(
            """
            {"acme-reasoner": {"input_cost_per_token": 1.1e-06, "output_cost_per_token": 4.4e-06,
                               "output_cost_per_reasoning_token": 7.2e-06, "litellm_provider": "openai"}}
            """)
        let price = try #require(table.price(for: "acme-reasoner"))
        #expect(price.reasoning == 7.2)
        #expect(Self.usage(input: 1000, output: 2600, reasoning: 2000).cost(at: price) == 0.01814)
        var plain = price
        plain.reasoning = nil
        #expect(Self.usage(input: 1000, output: 2600, reasoning: 2000).cost(at: plain) == 0.01254)
        // Reasoning reported above the output count is capped at the output: never billed twice, never negative.
        #expect(Self.usage(input: 0, output: 100, reasoning: 500).cost(at: price) == 0.00072)
    }

    @Test func ourOwnFileFormatTakesReasoningAndLongContextRates() throws {
        let table = try PricingFileTests.table(
            """
            {"models": {"acme-long": {"input": 1, "output": 4, "reasoning": 8,
                                      "long_context": {"above_tokens": 100000, "input": 2, "output": 6}}}}
            """)
        let price = try #require(table.price(for: "acme-long"))
        #expect(price.reasoning == 8)
        #expect(
            price.longContext
                == ModelPrice.LongContext(above: 100_000, input: 2, output: 6, cacheRead: 2, cacheWrite: 2, cacheWriteOneHour: 4))
        // 100,000 in: standard. 100,001 in: the whole call at the long rates.
        #expect(Self.usage(input: 100_000, output: 1000).cost(at: price) == 0.104)
        #expect(Self.usage(input: 100_001, output: 1000).cost(at: price) == 0.206002)
    }

    @Test(arguments: [
        #"{"models": {"m": {"input": 1, "output": 4, "long_context": {"input": 2, "output": 6}}}}"#,
        #"{"models": {"m": {"input": 1, "output": 4, "long_context": {"above_tokens": 0.5, "input": 2, "output": 6}}}}"#,
        #"{"models": {"m": {"input": 1, "output": 4, "long_context": {"above_tokens": 1000, "output": 6}}}}"#,
        #"{"models": {"m": {"input": 1, "output": 4, "long_context": {"above_tokens": 1000, "input": 2, "output": 6, "x": 1}}}}"#,
        #"{"models": {"m": {"input": 1, "output": 4, "long_context": [1]}}}"#,
        #"{"models": {"m": {"input": 1, "output": 4, "reasoning": -1}}}"#,
    ])
    func malformedLongContextOrReasoningRatesAreRefused(file: String) {
        #expect(throws: PricingFileError.self) { try PricingFileTests.table(file) }
    }

    /// LiteLLM's tier fields for Claude Sonnet 4.5: 250,000 in x $6 + 1,000 out x $22.50 per million = $1.5225.
    @Test func liteLLMAbove200kFieldsBecomeALongContextTier() throws {
        let table = try PricingFileTests.table(
            """
            {"claude-sonnet-4-5": {"input_cost_per_token": 3e-06, "output_cost_per_token": 1.5e-05,
               "input_cost_per_token_above_200k_tokens": 6e-06, "output_cost_per_token_above_200k_tokens": 2.25e-05,
               "cache_read_input_token_cost_above_200k_tokens": 6e-07,
               "cache_creation_input_token_cost_above_200k_tokens": 7.5e-06, "litellm_provider": "anthropic"}}
            """)
        let price = try #require(table.price(for: "claude-sonnet-4-5-20250929"))
        #expect(price.longContext?.thresholdTokens == 200_000)
        #expect(price.longContext?.cacheRead == 0.6)
        #expect(Self.usage(.inputExcludesCache, input: 250_000, output: 1000).cost(at: price) == 1.5225)
    }

    /// Built in: Claude Sonnet 4.5 bills a prompt over 200k input tokens (cache reads count towards it) at $6 / $22.50,
    /// cache reads at $0.60: 10,000 x $6 + 195,000 x $0.60 + 2,000 x $22.50 per million = $0.222. Under the threshold
    /// (195,000 in all) the standard rates give $0.03 + $0.0555 + $0.03 = $0.1155.
    @Test func claudeLongContextCountsCachedTokensTowardsTheThreshold() throws {
        let price = try #require(PriceTable.builtIn.price(for: "claude-sonnet-4-5-20250929"))
        #expect(Self.usage(.inputExcludesCache, input: 10_000, output: 2000, read: 195_000).cost(at: price) == 0.222)
        #expect(Self.usage(.inputExcludesCache, input: 10_000, output: 2000, read: 185_000).cost(at: price) == 0.1155)
    }

    /// Gemini 2.5 Pro: $1.25 / $10 up to 200k prompt tokens, $2.50 / $15 above, for the whole call.
    @Test func geminiProLongContextRates() throws {
        let price = try #require(PriceTable.builtIn.price(for: "gemini-2.5-pro"))
        #expect(Self.usage(input: 200_000, output: 1000).cost(at: price) == 0.26)
        #expect(Self.usage(input: 300_000, output: 1000).cost(at: price) == 0.765)
    }

    /// OpenAI bills fine-tuned models at their own rates: ft:gpt-4o-mini is $0.30 / $1.20, twice the base model.
    @Test func fineTunedOpenAIModelsTakeTheFineTuningRates() throws {
        let table = PriceTable.builtIn
        #expect(table.price(for: "ft:gpt-4o-mini:acme::abc123") == PriceTable.price(0.30, cached: 0.15, 1.20))
        #expect(table.price(for: "ft:gpt-4o-mini-2024-07-18:acme:support:9xYz") == PriceTable.price(0.30, cached: 0.15, 1.20))
        #expect(table.price(for: "ft:gpt-4o-2024-08-06:acme::x1") == PriceTable.price(3.75, cached: 1.875, 15.00))
        #expect(table.price(for: "ft:gpt-4.1-nano-2025-04-14:acme::x1") == PriceTable.price(0.20, cached: 0.05, 0.80))
        #expect(table.price(for: "ft:davinci-002:acme::x1") == nil, "a fine-tune of an unlisted base is unpriced")
        var base = PriceTable.price(0.15, cached: 0.075, 0.60)
        base.flex = .half(of: base)
        #expect(table.price(for: "gpt-4o-mini") == base, "the base is unchanged")
        #expect(table.price(for: "ft:gpt-4o-mini:acme::abc123")?.flex == nil, "fine-tunes have no flex tier")
    }

    /// Admission's worst case uses the reasoning rate for output when it is the higher one, and the long-context
    /// rates when the body alone is past the threshold.
    @Test func theWorstCaseAssumesTheDearerOutputAndTier() throws {
        let price = ModelPrice(
            input: 1, output: 4, cacheRead: 1, cacheWrite: 1, reasoning: 8,
            longContext: .init(above: 1000, input: 2, output: 6, cacheRead: 2, cacheWrite: 2))
        #expect(price.cost(inputTokens: 1000, outputTokens: 1000) == 0.009)
        #expect(price.cost(inputTokens: 1001, outputTokens: 1000) == 0.010002)
    }
}

/// OpenAI's processing tiers: the answer's `service_tier` picks the rates.
@Suite("Service tier pricing")
struct ServiceTierPricingTests {
    static func chat(tier: String?, model: String = "gpt-5.1") -> CallRecord {
        let tierField = tier.map { #","service_tier":"\#($0)""# } ?? ""
        return CapturedCallFixture.record(
            CapturedCallFixture.call(
                request: #"{"model":"\#(model)","service_tier":"auto","messages":[{"role":"user","content":"hi"}]}"#,
                response: #"{"id":"c","object":"chat.completion","model":"\#(model)-2025-11-13"\#(tierField),"#
                    + #""choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"#
                    + #""usage":{"prompt_tokens":10000,"completion_tokens":2000,"total_tokens":12000,"#
                    + #""prompt_tokens_details":{"cached_tokens":4000}}}"#))
    }

    /// gpt-5.1 standard: 6,000 x $1.25 + 4,000 cached x $0.125 + 2,000 x $10 per million = $0.028. Flex bills at the
    /// Batch API's rates, half of each: $0.014. "default" and "priority" without priority rates: standard.
    @Test func flexIsHalfTheStandardRatesAndOtherTiersAreStandard() {
        #expect(CapturedCallFixture.same(Self.chat(tier: nil).costUSD, 0.028))
        #expect(CapturedCallFixture.same(Self.chat(tier: "default").costUSD, 0.028))
        #expect(CapturedCallFixture.same(Self.chat(tier: "flex").costUSD, 0.014))
        #expect(CapturedCallFixture.same(Self.chat(tier: "priority").costUSD, 0.028))
        #expect(CapturedCallFixture.same(Self.chat(tier: "scale").costUSD, 0.028))
    }

    @Test func aStreamTakesTheTierItsChunksName() {
        let chunk = #"{"id":"c","object":"chat.completion.chunk","model":"gpt-5.1","service_tier":"flex","choices":"#
        let record = CapturedCallFixture.record(
            CapturedCallFixture.call(
                request: #"{"model":"gpt-5.1","stream":true,"messages":[{"role":"user","content":"hi"}]}"#,
                response: CapturedCallFixture.sse([
                    (nil, chunk + #"[{"index":0,"delta":{"content":"ok"},"finish_reason":null}]}"#),
                    (nil, chunk + #"[{"index":0,"delta":{},"finish_reason":"stop"}]}"#),
                    (
                        nil,
                        chunk + #"[],"usage":{"prompt_tokens":10000,"completion_tokens":2000,"#
                            + #""prompt_tokens_details":{"cached_tokens":4000}}}"#
                    ),
                    (nil, "[DONE]"),
                ]), contentType: "text/event-stream"))
        #expect(CapturedCallFixture.same(record.costUSD, 0.014))
    }

    @Test func theResponsesAPITakesTheTierOfItsResponse() {
        let record = OpenAIResponsesAdapterTests.record(
            #"{"model":"gpt-5.1","input":"hi","service_tier":"flex"}"#,
            #"{"id":"r","object":"response","status":"completed","model":"gpt-5.1","service_tier":"flex","output":[],"#
                + #""usage":{"input_tokens":10000,"input_tokens_details":{"cached_tokens":4000},"output_tokens":2000}}"#)
        #expect(CapturedCallFixture.same(record.costUSD, 0.014))
    }

    /// A LiteLLM file's priority fields (gpt-5.1 at $2.50 / $0.25 cached / $20, per token in the file): 6,000 x 2.5
    /// + 4,000 x 0.25 + 2,000 x 20 per million = $0.056; its flex fields replace the built-in half.
    @Test func aPriceFileGivesPriorityAndFlexRates() throws {
        let table = try PricingFileTests.table(
            """
            {"gpt-5.1": {"input_cost_per_token": 1.25e-06, "output_cost_per_token": 1e-05,
                         "cache_read_input_token_cost": 1.25e-07, "litellm_provider": "openai",
                         "input_cost_per_token_priority": 2.5e-06, "output_cost_per_token_priority": 2e-05,
                         "cache_read_input_token_cost_priority": 2.5e-07,
                         "input_cost_per_token_flex": 6e-07, "output_cost_per_token_flex": 5e-06}}
            """)
        let price = try #require(table.price(for: "gpt-5.1"))
        let usage = InvoicePricingTests.usage(input: 10000, output: 2000, read: 4000)
        #expect(usage.cost(at: price.forServiceTier("priority")) == 0.056)
        // Flex from the file: 6,000 x 0.6 + 4,000 x 0.6 (cache read defaults to the tier's input) + 2,000 x 5 = $0.016.
        #expect(usage.cost(at: price.forServiceTier("flex")) == 0.016)
        #expect(usage.cost(at: price.forServiceTier("default")) == 0.028)
        let own = try PricingFileTests.table(
            #"{"models": {"m": {"input": 1, "output": 4, "priority": {"input": 2, "output": 8, "cache_read": 0.2}}}}"#)
        #expect(try #require(own.price(for: "m")).priority == ModelPrice.TierRates(input: 2, output: 8, cacheRead: 0.2))
        #expect(throws: PricingFileError.self) {
            try PricingFileTests.table(#"{"models": {"m": {"input": 1, "output": 4, "flex": {"input": 1}}}}"#)
        }
        #expect(throws: PricingFileError.self) {
            try PricingFileTests.table(
                #"{"models": {"m": {"input": 1, "output": 4, "flex": {"input": 1, "output": 2, "x": 1}}}}"#)
        }
    }
}
