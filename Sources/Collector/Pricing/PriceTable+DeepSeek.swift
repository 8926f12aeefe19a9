extension PriceTable {
    /// DeepSeek: `cached` is the cache-hit input price (cache misses cost plain input); chat and reasoner share
    /// one price since V3.2.
    static let deepSeek: [(String, ModelPrice)] = [
        ("deepseek-chat", price(0.28, cached: 0.028, 0.42)),
        ("deepseek-reasoner", price(0.28, cached: 0.028, 0.42)),
    ]
}
