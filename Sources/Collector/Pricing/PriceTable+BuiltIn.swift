extension PriceTable {
    /// Public list prices, USD per million tokens (standard tier, prompts under any long-context threshold).
    ///
    /// Names are prefixes matched at a word boundary, longest first; a dated or suffixed id
    /// (`gpt-4o-2024-08-06`, `claude-sonnet-4-5-20250929`) takes its family's price. Entries that exist only
    /// to stop a longer id from falling back to a shorter family at the wrong price say so.
    /// OpenAI: `cacheRead` is the published cached-input price; cache writes are plain input.
    /// Anthropic: cache reads 0.1x input, five-minute cache writes 1.25x input.
    package static let builtIn = PriceTable(
        version: "builtin-2026-11",
        prices: openAI.merging(anthropic) { first, _ in first }
    )

    private static func openAIPrice(_ input: Double, cached: Double?, _ output: Double) -> ModelPrice {
        ModelPrice(input: input, output: output, cacheRead: cached ?? input, cacheWrite: input)
    }

    private static let openAI: [String: ModelPrice] = [
        "gpt-5": openAIPrice(1.25, cached: 0.125, 10.00),
        "gpt-5-mini": openAIPrice(0.25, cached: 0.025, 2.00),
        "gpt-5-nano": openAIPrice(0.05, cached: 0.005, 0.40),
        "gpt-5-pro": openAIPrice(15.00, cached: nil, 120.00),  // not gpt-5
        "gpt-4.1": openAIPrice(2.00, cached: 0.50, 8.00),
        "gpt-4.1-mini": openAIPrice(0.40, cached: 0.10, 1.60),
        "gpt-4.1-nano": openAIPrice(0.10, cached: 0.025, 0.40),
        "gpt-4.5": openAIPrice(75.00, cached: 37.50, 150.00),  // not gpt-4
        "gpt-4o": openAIPrice(2.50, cached: 1.25, 10.00),
        "gpt-4o-2024-05-13": openAIPrice(5.00, cached: nil, 15.00),  // the first gpt-4o snapshot
        "gpt-4o-mini": openAIPrice(0.15, cached: 0.075, 0.60),
        "chatgpt-4o-latest": openAIPrice(5.00, cached: nil, 15.00),
        "o1": openAIPrice(15.00, cached: 7.50, 60.00),
        "o1-mini": openAIPrice(1.10, cached: 0.55, 4.40),
        "o1-pro": openAIPrice(150.00, cached: nil, 600.00),  // not o1
        "o3": openAIPrice(2.00, cached: 0.50, 8.00),
        "o3-mini": openAIPrice(1.10, cached: 0.55, 4.40),
        "o3-pro": openAIPrice(20.00, cached: nil, 80.00),  // not o3
        "o3-deep-research": openAIPrice(10.00, cached: 2.50, 40.00),  // not o3
        "o4-mini": openAIPrice(1.10, cached: 0.275, 4.40),
        "o4-mini-deep-research": openAIPrice(2.00, cached: 0.50, 8.00),  // not o4-mini
        "gpt-4-turbo": openAIPrice(10.00, cached: nil, 30.00),
        "gpt-4-1106": openAIPrice(10.00, cached: nil, 30.00),  // gpt-4-1106-preview is gpt-4-turbo, not gpt-4
        "gpt-4-0125": openAIPrice(10.00, cached: nil, 30.00),  // gpt-4-0125-preview, likewise
        "gpt-4-vision": openAIPrice(10.00, cached: nil, 30.00),  // gpt-4-vision-preview, likewise
        "gpt-4": openAIPrice(30.00, cached: nil, 60.00),
        "gpt-4-32k": openAIPrice(60.00, cached: nil, 120.00),  // not gpt-4
        "gpt-3.5-turbo": openAIPrice(0.50, cached: nil, 1.50),
        "gpt-35-turbo": openAIPrice(0.50, cached: nil, 1.50),  // Azure's spelling
    ]

    private static func anthropicPrice(_ input: Double, _ output: Double, read: Double, write: Double) -> ModelPrice {
        ModelPrice(input: input, output: output, cacheRead: read, cacheWrite: write)
    }

    private static let anthropic: [String: ModelPrice] = [
        "claude-opus-4-5": anthropicPrice(5.00, 25.00, read: 0.50, write: 6.25),  // not claude-opus-4
        "claude-opus-4-6": anthropicPrice(5.00, 25.00, read: 0.50, write: 6.25),
        "claude-opus-4-7": anthropicPrice(5.00, 25.00, read: 0.50, write: 6.25),
        "claude-opus-4-8": anthropicPrice(5.00, 25.00, read: 0.50, write: 6.25),
        "claude-opus-4-1": anthropicPrice(15.00, 75.00, read: 1.50, write: 18.75),
        "claude-opus-4": anthropicPrice(15.00, 75.00, read: 1.50, write: 18.75),
        "claude-sonnet-4-5": anthropicPrice(3.00, 15.00, read: 0.30, write: 3.75),
        "claude-sonnet-4": anthropicPrice(3.00, 15.00, read: 0.30, write: 3.75),
        "claude-3-7-sonnet": anthropicPrice(3.00, 15.00, read: 0.30, write: 3.75),
        "claude-3-5-sonnet": anthropicPrice(3.00, 15.00, read: 0.30, write: 3.75),
        "claude-3-sonnet": anthropicPrice(3.00, 15.00, read: 0.30, write: 3.75),
        "claude-haiku-4-5": anthropicPrice(1.00, 5.00, read: 0.10, write: 1.25),
        "claude-3-5-haiku": anthropicPrice(0.80, 4.00, read: 0.08, write: 1.00),
        "claude-3-haiku": anthropicPrice(0.25, 1.25, read: 0.03, write: 0.30),
        "claude-3-opus": anthropicPrice(15.00, 75.00, read: 1.50, write: 18.75),
    ]
}
