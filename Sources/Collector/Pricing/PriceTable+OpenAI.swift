extension PriceTable {
    /// OpenAI: `cached` is the published cached-input price.
    static let openAI: [(String, ModelPrice)] = [
        ("gpt-5.5", price(5.00, cached: 0.50, 30.00)),
        ("gpt-5.5-pro", price(30.00, cached: 3.00, 180.00)),
        ("gpt-5.4", price(2.50, cached: 0.25, 15.00)),
        ("gpt-5.4-mini", price(0.75, cached: 0.075, 4.50)),
        ("gpt-5.4-nano", price(0.20, cached: 0.02, 1.25)),
        ("gpt-5.4-pro", price(30.00, cached: 3.00, 180.00)),
        ("gpt-5.3", price(1.75, cached: 0.175, 14.00)),  // gpt-5.3-codex, gpt-5.3-chat-latest
        ("gpt-5.2", price(1.75, cached: 0.175, 14.00)),
        ("gpt-5.2-pro", price(21.00, cached: nil, 168.00)),
        ("gpt-5.1", price(1.25, cached: 0.125, 10.00)),
        ("gpt-5.1-codex-mini", price(0.25, cached: 0.025, 2.00)),
        ("gpt-5", price(1.25, cached: 0.125, 10.00)),
        ("gpt-5-mini", price(0.25, cached: 0.025, 2.00)),
        ("gpt-5-nano", price(0.05, cached: 0.005, 0.40)),
        ("gpt-5-pro", price(15.00, cached: nil, 120.00)),
        ("gpt-5-codex-mini", price(0.25, cached: 0.025, 2.00)),
        ("codex-mini-latest", price(1.50, cached: 0.375, 6.00)),
        ("gpt-4.1", price(2.00, cached: 0.50, 8.00)),
        ("gpt-4.1-mini", price(0.40, cached: 0.10, 1.60)),
        ("gpt-4.1-nano", price(0.10, cached: 0.025, 0.40)),
        ("gpt-4.5", price(75.00, cached: 37.50, 150.00)),
        ("gpt-4o", price(2.50, cached: 1.25, 10.00)),
        ("gpt-4o-2024-05-13", price(5.00, cached: nil, 15.00)),  // the first gpt-4o snapshot
        ("gpt-4o-mini", price(0.15, cached: 0.075, 0.60)),
        ("gpt-4o-realtime", price(5.00, cached: 2.50, 20.00)),  // not gpt-4o
        ("gpt-4o-mini-realtime", price(0.60, cached: 0.30, 2.40)),  // not gpt-4o-mini
        ("chatgpt-4o-latest", price(5.00, cached: nil, 15.00)),
        ("o1", price(15.00, cached: 7.50, 60.00)),
        ("o1-mini", price(1.10, cached: 0.55, 4.40)),
        ("o1-pro", price(150.00, cached: nil, 600.00)),
        ("o3", price(2.00, cached: 0.50, 8.00)),
        ("o3-mini", price(1.10, cached: 0.55, 4.40)),
        ("o3-pro", price(20.00, cached: nil, 80.00)),
        ("o3-deep-research", price(10.00, cached: 2.50, 40.00)),  // not o3
        ("o4-mini", price(1.10, cached: 0.275, 4.40)),
        ("o4-mini-deep-research", price(2.00, cached: 0.50, 8.00)),  // not o4-mini
        ("gpt-4-turbo", price(10.00, cached: nil, 30.00)),
        ("gpt-4-1106", price(10.00, cached: nil, 30.00)),  // gpt-4-1106-preview is gpt-4-turbo, not gpt-4
        ("gpt-4-0125", price(10.00, cached: nil, 30.00)),  // gpt-4-0125-preview, likewise
        ("gpt-4-vision", price(10.00, cached: nil, 30.00)),  // gpt-4-vision-preview, likewise
        ("gpt-4", price(30.00, cached: nil, 60.00)),
        ("gpt-4-32k", price(60.00, cached: nil, 120.00)),  // not gpt-4
        ("gpt-3.5-turbo", price(0.50, cached: nil, 1.50)),
        ("gpt-3.5-turbo-1106", price(1.00, cached: nil, 2.00)),  // not gpt-3.5-turbo
        ("gpt-3.5-turbo-16k", price(3.00, cached: nil, 4.00)),  // not gpt-3.5-turbo
        ("gpt-3.5-turbo-instruct", price(1.50, cached: nil, 2.00)),  // not gpt-3.5-turbo
        ("gpt-35-turbo", price(0.50, cached: nil, 1.50)),  // Azure's spelling
        // Fine-tuned models (`ft:gpt-4o-mini-2024-07-18:org::id`) bill at their own inference rates, not their base
        // model's (openai.com/api/pricing, "Fine-tuning"). A fine-tune of a base not listed here is unpriced.
        ("ft:gpt-4.1", price(3.00, cached: 0.75, 12.00)),
        ("ft:gpt-4.1-mini", price(0.80, cached: 0.20, 3.20)),
        ("ft:gpt-4.1-nano", price(0.20, cached: 0.05, 0.80)),
        ("ft:gpt-4o", price(3.75, cached: 1.875, 15.00)),
        ("ft:gpt-4o-mini", price(0.30, cached: 0.15, 1.20)),
        ("ft:gpt-3.5-turbo", price(3.00, cached: nil, 6.00)),
        ("ft:o4-mini", price(4.00, cached: 1.00, 16.00)),
    ]
}
