extension PriceTable {
    /// Google Gemini (Gemini API, paid tier): `cached` is the context-caching read price for text; cache storage is
    /// billed by the hour and is not a per-call cost. Rates are those for prompts up to 200k tokens (128k for 1.5).
    static let google: [(String, ModelPrice)] = [
        ("gemini-3.5-flash", price(1.50, cached: 0.15, 9.00)),
        ("gemini-3.5-flash-lite", price(0.30, cached: 0.03, 2.50)),
        ("gemini-3.1-pro", price(2.00, cached: 0.20, 12.00)),
        ("gemini-3.1-flash-lite", price(0.25, cached: 0.025, 1.50)),
        ("gemini-3-pro", price(2.00, cached: 0.20, 12.00)),
        ("gemini-3-flash", price(0.50, cached: 0.05, 3.00)),
        ("gemini-2.5-pro", price(1.25, cached: 0.125, 10.00)),
        ("gemini-2.5-flash", price(0.30, cached: 0.03, 2.50)),
        ("gemini-2.5-flash-lite", price(0.10, cached: 0.01, 0.40)),
        ("gemini-2.0-flash", price(0.10, cached: 0.025, 0.40)),
        ("gemini-2.0-flash-lite", price(0.075, cached: 0.01875, 0.30)),
        ("gemini-1.5-pro", price(1.25, cached: 0.3125, 5.00)),
        ("gemini-1.5-flash", price(0.075, cached: 0.01875, 0.30)),
        ("gemini-1.5-flash-8b", price(0.0375, cached: 0.01, 0.15)),  // not gemini-1.5-flash
    ]
}
