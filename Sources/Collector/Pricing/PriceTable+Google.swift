extension PriceTable {
    /// Google Gemini (Gemini API, paid tier): `cached` is the context-caching read price for text; cache storage is
    /// billed by the hour and is not a per-call cost. Pro models bill a prompt over 200k tokens (128k for 1.5) at their
    /// long-context rates, for the whole call.
    static let google: [(String, ModelPrice)] = [
        ("gemini-3.5-flash", price(1.50, cached: 0.15, 9.00)),
        ("gemini-3.5-flash-lite", price(0.30, cached: 0.03, 2.50)),
        ("gemini-3.1-pro", price(2.00, cached: 0.20, 12.00)),
        ("gemini-3.1-flash-lite", price(0.25, cached: 0.025, 1.50)),
        ("gemini-3-pro", long(price(2.00, cached: 0.20, 12.00), above: 200_000, 4.00, cached: 0.40, 18.00)),
        ("gemini-3-flash", price(0.50, cached: 0.05, 3.00)),
        ("gemini-2.5-pro", long(price(1.25, cached: 0.125, 10.00), above: 200_000, 2.50, cached: 0.25, 15.00)),
        ("gemini-2.5-flash", price(0.30, cached: 0.03, 2.50)),
        ("gemini-2.5-flash-lite", price(0.10, cached: 0.01, 0.40)),
        ("gemini-2.0-flash", price(0.10, cached: 0.025, 0.40)),
        ("gemini-2.0-flash-lite", price(0.075, cached: 0.01875, 0.30)),
        ("gemini-1.5-pro", long(price(1.25, cached: 0.3125, 5.00), above: 128_000, 2.50, cached: 0.625, 10.00)),
        ("gemini-1.5-flash", price(0.075, cached: 0.01875, 0.30)),
        ("gemini-1.5-flash-8b", price(0.0375, cached: 0.01, 0.15)),  // not gemini-1.5-flash
    ]

    private static func long(
        _ price: ModelPrice, above threshold: Int, _ input: Double, cached: Double, _ output: Double
    ) -> ModelPrice {
        var price = price
        price.longContext = ModelPrice.LongContext(
            above: threshold, input: input, output: output, cacheRead: cached, cacheWrite: input, cacheWriteOneHour: input)
        return price
    }
}
