extension PriceTable {
    /// Anthropic: cache reads 0.1x input, five-minute cache writes 1.25x, one-hour writes 2x.
    static let anthropic: [(String, ModelPrice)] = [
        ("claude-opus-5", claude(5.00, 25.00)),
        ("claude-sonnet-5", claude(2.00, 10.00)),
        ("claude-opus-4-8", claude(5.00, 25.00)),
        ("claude-opus-4-7", claude(5.00, 25.00)),
        ("claude-opus-4-6", claude(5.00, 25.00)),
        ("claude-sonnet-4-6", claude(3.00, 15.00)),
        ("claude-opus-4-5", claude(5.00, 25.00)),
        ("claude-sonnet-4-5", claude(3.00, 15.00, longContext: sonnet4LongContext)),
        ("claude-haiku-4-5", claude(1.00, 5.00)),
        ("claude-opus-4-1", claude(15.00, 75.00)),
        ("claude-opus-4", claude(15.00, 75.00)),
        ("claude-opus-4-0", claude(15.00, 75.00)),  // the alias of claude-opus-4-20250514
        ("claude-4-opus", claude(15.00, 75.00)),  // a gateway spelling
        ("claude-sonnet-4", claude(3.00, 15.00, longContext: sonnet4LongContext)),
        ("claude-sonnet-4-0", claude(3.00, 15.00, longContext: sonnet4LongContext)),  // the alias of claude-sonnet-4-20250514
        ("claude-4-sonnet", claude(3.00, 15.00, longContext: sonnet4LongContext)),  // a gateway spelling
        ("claude-3-7-sonnet", claude(3.00, 15.00)),
        ("claude-3-5-sonnet", claude(3.00, 15.00)),
        ("claude-3-5-haiku", claude(0.80, 4.00)),
        ("claude-3-opus", claude(15.00, 75.00)),
        ("claude-3-sonnet", claude(3.00, 15.00)),
        // Claude 3 Haiku's published cache prices are rounded up to the cent.
        ("claude-3-haiku", ModelPrice(input: 0.25, output: 1.25, cacheRead: 0.03, cacheWrite: 0.30, cacheWriteOneHour: 0.50)),
    ]

    private static func claude(_ input: Double, _ output: Double, longContext: ModelPrice.LongContext? = nil) -> ModelPrice {
        ModelPrice(
            input: input, output: output, cacheRead: ModelPrice.rate(input * 0.1), cacheWrite: ModelPrice.rate(input * 1.25),
            cacheWriteOneHour: input * 2, longContext: longContext)
    }

    /// Claude Sonnet 4 and 4.5 with the 1M-token context: a prompt over 200k input tokens bills the whole call at
    /// $6 in and $22.50 out, with the cache rates in the same ratios.
    private static let sonnet4LongContext = ModelPrice.LongContext(
        above: 200_000, input: 6.00, output: 22.50, cacheRead: 0.60, cacheWrite: 7.50, cacheWriteOneHour: 12.00)
}
