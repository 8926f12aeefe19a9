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
        ("gpt-4o-2024-05-13", 5.00), ("gpt-4.1", 2.00), ("gpt-4.1-2025-04-14", 2.00), ("gpt-4.1-mini", 0.40),
        ("gpt-4.1-nano-2025-04-14", 0.10), ("gpt-5", 1.25), ("gpt-5-2025-08-07", 1.25), ("gpt-5-mini", 0.25),
        ("gpt-5-nano", 0.05), ("gpt-5-pro", 15.00), ("o1", 15.00), ("o1-2024-12-17", 15.00), ("o1-mini", 1.10),
        ("o1-pro", 150.00), ("o3", 2.00), ("o3-2025-04-16", 2.00), ("o3-mini", 1.10), ("o3-pro", 20.00),
        ("o4-mini", 1.10), ("o4-mini-2025-04-16", 1.10), ("gpt-4-turbo", 10.00), ("gpt-4-turbo-2024-04-09", 10.00),
        ("gpt-4-1106-preview", 10.00), ("gpt-4-0125-preview", 10.00), ("gpt-4", 30.00), ("gpt-4-0613", 30.00),
        ("gpt-4-32k", 60.00), ("gpt-4.5-preview", 75.00), ("gpt-3.5-turbo", 0.50), ("gpt-3.5-turbo-0125", 0.50),
        ("gpt-35-turbo", 0.50),
        ("claude-opus-4-1-20250805", 15.00), ("claude-opus-4-20250514", 15.00), ("claude-opus-4-5-20251101", 5.00),
        ("claude-sonnet-4-5-20250929", 3.00), ("claude-sonnet-4-20250514", 3.00), ("claude-3-7-sonnet-latest", 3.00),
        ("claude-3-5-sonnet-20241022", 3.00), ("claude-haiku-4-5-20251001", 1.00), ("claude-3-5-haiku-20241022", 0.80),
        ("claude-3-haiku-20240307", 0.25), ("claude-3-opus-20240229", 15.00),
    ])
    func longestMatchingNameWins(model: String, input: Double) {
        #expect(Self.input(model) == input)
    }

    @Test func gpt4PreviewIsNotGPT41() {
        let price = Self.table.price(for: "gpt-4-1106-preview")
        #expect(price == ModelPrice(input: 10, output: 30, cacheRead: 10, cacheWrite: 10))
        #expect(price != Self.table.price(for: "gpt-4.1"))
    }

    @Test(arguments: [
        ("openai/gpt-4o-mini", 0.15), ("anthropic/claude-sonnet-4-5", 3.00),
        ("openrouter/anthropic/claude-3.5-sonnet", 3.00),
        ("anthropic/claude-3.5-haiku", 0.80), ("us.anthropic.claude-3-5-sonnet-20241022-v2:0", 3.00),
        ("anthropic.claude-3-haiku-20240307-v1:0", 0.25), ("claude-3-5-sonnet@20240620", 3.00), ("GPT-4o-Mini", 0.15),
        (" gpt-4o ", 2.50),
    ])
    func gatewayNamesAreCanonicalised(model: String, input: Double) {
        #expect(Self.input(model) == input)
    }

    @Test(arguments: [
        "llama-3.1-70b-instruct", "gemini-2.5-pro", "gpt-4o1", "gpt", "o5", "claude", "claude-2.1", "",
        "mistral/gpt-40",
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
        for (name, price) in Self.table.prices where name.hasPrefix("claude") && name != "claude-3-haiku" {
            #expect(abs(price.cacheRead - price.input * 0.1) < 1e-12, "\(name)")
            #expect(abs(price.cacheWrite - price.input * 1.25) < 1e-12, "\(name)")
        }
    }

    @Test func openAICachedInputIsNeverDearerThanInput() {
        for (name, price) in Self.table.prices where !name.hasPrefix("claude") {
            #expect(price.cacheRead <= price.input, "\(name)")
            #expect(price.cacheWrite == price.input, "\(name)")
        }
    }

    @Test func aCustomTableIsCaseInsensitive() {
        let table = PriceTable(
            version: "custom-1", prices: ["My-Model": ModelPrice(input: 1, output: 2, cacheRead: 0.5, cacheWrite: 1)])
        #expect(table.price(for: "my-model-v2")?.output == 2)
        #expect(table.version == "custom-1")
    }
}
