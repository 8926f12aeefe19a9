import Testing

@testable import Collector

/// Model-name matching in the price table and the shape of the built-in prices.
@Suite("Price table lookup")
struct PriceTableTests {
    static let table = PriceTable.builtIn

    static func input(_ model: String) -> Double? {
        table.price(for: model)?.input
    }

    @Test func versionIsStamped() {
        #expect(Self.table.version == "builtin-2026-11")
    }

    @Test(arguments: [
        ("gpt-4o", 2.50), ("gpt-4o-2024-08-06", 2.50), ("gpt-4o-mini", 0.15), ("gpt-4o-mini-2024-07-18", 0.15),
        ("gpt-4o-2024-05-13", 5.00), ("gpt-4o-search-preview", 2.50), ("gpt-4o-mini-search-preview-2025-03-11", 0.15),
        ("gpt-4o-realtime-preview-2024-12-17", 5.00), ("gpt-4.1", 2.00), ("gpt-4.1-2025-04-14", 2.00),
        ("gpt-4.1-mini", 0.40), ("gpt-4.1-nano-2025-04-14", 0.10), ("gpt-5", 1.25), ("gpt-5-2025-08-07", 1.25),
        ("gpt-5-chat-latest", 1.25), ("gpt-5-codex", 1.25), ("gpt-5-mini", 0.25), ("gpt-5-mini-2025-08-07", 0.25),
        ("gpt-5-nano", 0.05), ("gpt-5-pro", 15.00), ("gpt-5-pro-2025-10-06", 15.00), ("gpt-5.1", 1.25),
        ("gpt-5.1-2025-11-13", 1.25), ("gpt-5.1-codex-max", 1.25), ("gpt-5.1-codex-mini", 0.25), ("gpt-5.2", 1.75),
        ("gpt-5.2-2025-12-11", 1.75), ("gpt-5.2-pro", 21.00), ("gpt-5.3-codex", 1.75), ("gpt-5.4", 2.50),
        ("gpt-5.4-mini-2026-03-17", 0.75), ("gpt-5.4-nano", 0.20), ("gpt-5.4-pro", 30.00), ("gpt-5.5-2026-04-23", 5.00),
        ("gpt-5.5-pro", 30.00), ("o1", 15.00), ("o1-2024-12-17", 15.00), ("o1-mini", 1.10), ("o1-pro", 150.00),
        ("o3", 2.00), ("o3-2025-04-16", 2.00), ("o3-mini", 1.10), ("o3-mini-2025-01-31", 1.10), ("o3-pro", 20.00),
        ("o3-deep-research-2025-06-26", 10.00), ("o4-mini", 1.10), ("o4-mini-2025-04-16", 1.10),
        ("o4-mini-deep-research", 2.00), ("gpt-4-turbo", 10.00), ("gpt-4-turbo-2024-04-09", 10.00),
        ("gpt-4-1106-preview", 10.00), ("gpt-4-0125-preview", 10.00), ("gpt-4", 30.00), ("gpt-4-0613", 30.00),
        ("gpt-4-32k", 60.00), ("gpt-4.5-preview", 75.00), ("gpt-3.5-turbo", 0.50), ("gpt-3.5-turbo-0125", 0.50),
        ("gpt-3.5-turbo-1106", 1.00), ("gpt-3.5-turbo-16k-0613", 3.00), ("gpt-35-turbo", 0.50),
    ])
    func openAINames(model: String, input: Double) {
        #expect(Self.input(model) == input)
    }

    @Test(arguments: [
        ("claude-opus-4-1-20250805", 15.00), ("claude-opus-4-20250514", 15.00), ("claude-opus-4-0", 15.00),
        ("claude-opus-4-5-20251101", 5.00), ("claude-opus-4-6", 5.00), ("claude-opus-4-7-20260416", 5.00),
        ("claude-sonnet-4-5-20250929", 3.00), ("claude-sonnet-4-20250514", 3.00), ("claude-sonnet-4-0", 3.00),
        ("claude-sonnet-4-6", 3.00), ("claude-sonnet-5", 2.00), ("claude-opus-5", 5.00), ("claude-4-sonnet-20250514", 3.00),
        ("claude-3-7-sonnet-latest", 3.00), ("claude-3-5-sonnet-20241022", 3.00), ("claude-haiku-4-5-20251001", 1.00),
        ("claude-3-5-haiku-20241022", 0.80), ("claude-3-haiku-20240307", 0.25), ("claude-3-opus-20240229", 15.00),
    ])
    func anthropicNames(model: String, input: Double) {
        #expect(Self.input(model) == input)
    }

    @Test(arguments: [
        ("gemini-2.5-pro", 1.25), ("gemini-2.5-pro-preview-06-05", 1.25), ("gemini-2.5-flash", 0.30),
        ("gemini-2.5-flash-preview-09-2025", 0.30), ("gemini-2.5-flash-lite", 0.10),
        ("gemini-2.5-flash-lite-preview-06-17", 0.10), ("gemini-2.0-flash-001", 0.10), ("gemini-2.0-flash-lite-001", 0.075),
        ("gemini-1.5-pro-002", 1.25), ("gemini-1.5-flash-002", 0.075), ("gemini-1.5-flash-8b", 0.0375),
        ("gemini-3-pro-preview", 2.00), ("gemini-3-flash-preview", 0.50), ("gemini-3.1-pro-preview", 2.00),
        ("gemini-3.1-flash-lite-preview", 0.25), ("gemini-3.5-flash", 1.50), ("gemini-3.5-flash-lite", 0.30),
        ("mistral-large-latest", 0.50), ("mistral-large-2512", 0.50), ("mistral-large-2411", 2.00),
        ("mistral-medium-latest", 1.50), ("mistral-medium-2505", 0.40), ("mistral-medium-2508", 0.40),
        ("mistral-small-latest", 0.15), ("mistral-small-2506", 0.10), ("mistral-small-3.1-24b-instruct", 0.10),
        ("codestral-2508", 0.30), ("codestral-latest", 0.30), ("devstral-small-2507", 0.10), ("devstral-2512", 0.40),
        ("magistral-medium-latest", 2.00), ("ministral-8b-latest", 0.10), ("ministral-3b-2410", 0.04),
        ("open-mistral-nemo", 0.15), ("deepseek-chat", 0.28), ("deepseek-reasoner", 0.28),
    ])
    func googleMistralAndDeepSeekNames(model: String, input: Double) {
        #expect(Self.input(model) == input)
    }

    @Test func gpt4PreviewIsNotGPT41() {
        let price = Self.table.price(for: "gpt-4-1106-preview")
        var expected = ModelPrice(input: 10, output: 30, cacheRead: 10, cacheWrite: 10)
        expected.flex = .half(of: expected)
        #expect(price == expected)
        #expect(price != Self.table.price(for: "gpt-4.1"))
    }

    @Test(arguments: [
        ("openai/gpt-4o-mini", 0.15), ("anthropic/claude-sonnet-4-5", 3.00),
        ("openrouter/anthropic/claude-3.5-sonnet", 3.00), ("openrouter/anthropic/claude-sonnet-4.5", 3.00),
        ("openrouter/openai/gpt-5-mini", 0.25), ("openrouter/google/gemini-2.5-flash", 0.30),
        ("openrouter/deepseek/deepseek-chat", 0.28), ("mistralai/mistral-medium-3.1", 0.40),
        ("anthropic/claude-3.5-haiku", 0.80), ("us.anthropic.claude-3-5-sonnet-20241022-v2:0", 3.00),
        ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", 3.00), ("global.anthropic.claude-haiku-4-5-20251001-v1:0", 1.00),
        ("anthropic.claude-3-haiku-20240307-v1:0", 0.25), ("claude-3-5-sonnet@20240620", 3.00),
        ("claude-opus-4-1@20250805", 15.00), ("azure/gpt-4.1-nano", 0.10), ("models/gemini-2.5-pro", 1.25),
        ("GPT-4o-Mini", 0.15), (" gpt-4o ", 2.50),
    ])
    func gatewayNamesAreCanonicalised(model: String, input: Double) {
        #expect(Self.input(model) == input)
    }

    /// A new version or a size tier the table does not list stays unpriced instead of taking a neighbour's rate.
    @Test(arguments: [
        "llama-3.1-70b-instruct", "gpt-4o1", "gpt", "o5", "claude", "claude-2.1", "", "mistral/gpt-40", "gpt-5.9",
        "gpt-5.6-luna", "claude-opus-4-9", "claude-opus-5-5", "claude-sonnet-4-7-20270101",
        "gemini-3.6-flash", "gemini-pro", "gemini-2.5-flash-nano", "gpt-4o-nano", "deepseek-v4-pro", "ministral-14b",
        "mistral-small-4", "o4-pro",
    ])
    func unknownModelsHaveNoPrice(model: String) {
        #expect(Self.table.price(for: model) == nil)
    }

    @Test func everyNameFindsItsOwnPrice() {
        for (name, price) in Self.table.prices {
            #expect(Self.table.price(for: name) == price, "\(name)")
        }
    }

    /// Claude 3 Haiku's published cache prices are rounded up to the cent ($0.03 and $0.30).
    @Test func anthropicCacheRatesFollowTheInputRate() {
        for (name, price) in Self.table.prices where name.hasPrefix("claude") {
            #expect(abs(price.cacheWriteOneHour - price.input * 2) < 1e-12, "\(name)")
            guard name != "claude-3-haiku" else { continue }
            #expect(abs(price.cacheRead - price.input * 0.1) < 1e-12, "\(name)")
            #expect(abs(price.cacheWrite - price.input * 1.25) < 1e-12, "\(name)")
        }
    }

    @Test func otherProvidersChargeNothingExtraForCacheWrites() {
        for (name, price) in Self.table.prices where !name.hasPrefix("claude") {
            #expect(price.cacheRead <= price.input, "\(name)")
            #expect(price.cacheWrite == price.input, "\(name)")
            #expect(price.output >= price.input, "\(name)")
        }
    }

    @Test func aCustomTableIsCaseInsensitive() {
        let table = PriceTable(
            version: "custom-1", prices: ["My-Model": ModelPrice(input: 1, output: 2, cacheRead: 0.5, cacheWrite: 1)])
        #expect(table.price(for: "my-model-v2")?.output == 2)
        #expect(table.version == "custom-1")
    }

    @Test func estimatedCostPricesEveryInputTokenAtTheInputRate() {
        // claude-sonnet-4-5: 12,000 x $3 + 4,096 x $15 per million.
        #expect(
            Self.table.estimatedCost(model: "claude-sonnet-4-5-20250929", inputTokens: 12_000, outputTokens: 4_096) == 0.09744)
        // gpt-4o-mini: 1,000 x $0.15 + 500 x $0.60 per million.
        #expect(Self.table.estimatedCost(model: "openai/gpt-4o-mini", inputTokens: 1_000, outputTokens: 500) == 0.00045)
        #expect(Self.table.estimatedCost(model: "gpt-5-nano", inputTokens: 3, outputTokens: 1) == 0.00000055)
        #expect(Self.table.estimatedCost(model: "o3", inputTokens: 0, outputTokens: 0) == 0)
        #expect(Self.table.estimatedCost(model: "o3", inputTokens: -5, outputTokens: 1_000_000) == 8)
    }

    @Test func estimatedCostOfAnUnknownModelIsNil() {
        #expect(Self.table.estimatedCost(model: "llama-3.1-70b", inputTokens: 100, outputTokens: 100) == nil)
    }
}
