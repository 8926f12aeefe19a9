extension PriceTable {
    /// Public list prices, USD per million tokens: standard tier, prompts under any long-context threshold.
    ///
    /// Sources, read 2026-11: openai.com/api/pricing and platform.openai.com/docs/pricing;
    /// docs.anthropic.com "Pricing" (with "Prompt caching"); ai.google.dev/gemini-api/docs/pricing;
    /// mistral.ai/pricing; api-docs.deepseek.com "Models & Pricing". Models released in 2026 were cross-checked
    /// against LiteLLM's model_prices_and_context_window.json (snapshot of 2026-07-24) and one further published
    /// catalog (2026-10-09), and are listed only where the two agree.
    ///
    /// Names are prefixes matched at a word boundary, longest first (see `price(for:)`); a dated or suffixed id
    /// (`gpt-4o-2024-08-06`, `claude-sonnet-4-5-20250929`) takes its family's price. Entries that exist only to
    /// stop a longer id from taking a shorter family's price say so. Cache writes cost plain input except where
    /// the provider charges for them (Anthropic: 1.25x input for five minutes, 2x for one hour).
    ///
    /// OpenAI's flex processing (`service_tier: "flex"` in the answer) bills at the Batch API's rates, half the
    /// standard ones (platform.openai.com/docs/guides/flex-processing); priority processing has per-model rates that
    /// only a price file gives (`output_cost_per_token_priority`...): without one it is priced at the standard rates.
    package static let builtIn = PriceTable(
        version: "builtin-2026-11",
        prices: Dictionary(
            uniqueKeysWithValues: openAI.map { name, price in
                var price = price
                if !name.hasPrefix("ft:") { price.flex = .half(of: price) }
                return (name, price)
            } + anthropic + google + mistral + deepSeek)
    )

    /// A price whose cache reads cost `cached` (or plain input) and whose cache writes cost plain input.
    static func price(_ input: Double, cached: Double?, _ output: Double) -> ModelPrice {
        ModelPrice(input: input, output: output, cacheRead: cached ?? input, cacheWrite: input)
    }
}
