/// The prices in a user's price file, read from either of the two formats `AGENTLEDGER_PRICING_FILE` accepts:
///
/// - AgentLedger's own: `{"version": "name", "models": {"model": {"input": 2.5, "output": 10, "cache_read": 1.25,
///   "cache_write": 2.5, "cache_write_1h": 5, "reasoning": 10, "long_context": {"above_tokens": 200000, "input": 5,
///   "output": 15}}}}`, USD per million tokens; only `input` and `output` are required.
/// - LiteLLM's `model_prices_and_context_window.json`: model name to `input_cost_per_token`, `output_cost_per_token`,
///   `cache_read_input_token_cost`, `cache_creation_input_token_cost`, `cache_creation_input_token_cost_above_1hr`,
///   `output_cost_per_reasoning_token` and the long-context tiers (`*_above_200k_tokens`, `*_above_128k_tokens`) in
///   USD per token; docs/operations.md, "Pricing", lists the fields it does not use. Entries without both token prices (images, audio, `sample_spec`) are skipped.
///
/// Names are canonicalised like the model ids they will price (gateway prefixes dropped, lower case).
struct PricingFile: Equatable {
    /// Which of the two layouts the file uses.
    enum Format: Equatable {
        case agentLedger
        case liteLLM
    }

    var format: Format
    /// The file's own `version`, AgentLedger format only.
    var name: String?
    var prices: [String: ModelPrice]

    init(parsing bytes: [UInt8]) throws(PricingFileError.Problem) {
        let document: JSONValue
        do {
            document = try JSONReader.parse(bytes)
        } catch {
            throw .notJSON(error.description)
        }
        guard let root = document.objectValue else { throw .notAnObject(model: nil, field: nil) }
        if let models = root["models"]?.objectValue, models["input_cost_per_token"] == nil,
            models["litellm_provider"] == nil
        {
            format = .agentLedger
            (name, prices) = try Self.agentLedgerPrices(root: root, models: models)
        } else if Self.looksLikeLiteLLM(root) {
            format = .liteLLM
            name = nil
            prices = try Self.liteLLMPrices(root)
        } else {
            throw .unrecognisedFormat
        }
    }

    private static func agentLedgerPrices(
        root: [String: JSONValue], models: [String: JSONValue]
    ) throws(PricingFileError.Problem) -> (String?, [String: ModelPrice]) {
        for field in root.keys.sorted() where field != "version" && field != "models" {
            throw .unexpectedField(model: nil, field: field)
        }
        var name: String?
        if let version = root["version"] { name = try versionName(version) }
        var prices: [String: ModelPrice] = [:]
        var spelling: [String: String] = [:]
        let fields: Set = [
            "input", "output", "cache_read", "cache_write", "cache_write_1h", "reasoning", "long_context", "flex",
            "priority",
        ]
        for model in models.keys.sorted() {
            guard let entry = models[model]?.objectValue else { throw .notAnObject(model: model, field: nil) }
            for field in entry.keys.sorted() where !fields.contains(field) {
                throw .unexpectedField(model: model, field: field)
            }
            let key = PriceTable.canonicalName(of: model)
            guard !key.isEmpty else { throw .invalidName("a model name is empty") }
            if let first = spelling[key] { throw .sameModelTwice(first, model) }
            spelling[key] = model
            let rate = { (field: String) throws(PricingFileError.Problem) -> Double? in
                try amount(entry[field], model: model, field: field, scale: 1)
            }
            guard let input = try rate("input") else { throw .missingPrice(model: model, field: "input") }
            guard let output = try rate("output") else { throw .missingPrice(model: model, field: "output") }
            var price = ModelPrice(
                input: input, output: output, cacheRead: try rate("cache_read") ?? input,
                cacheWrite: try rate("cache_write") ?? input, cacheWriteOneHour: try rate("cache_write_1h"),
                reasoning: try rate("reasoning"), longContext: try longContext(entry["long_context"], model: model))
            price.flex = try tierRates(entry["flex"], model: model, field: "flex")
            price.priority = try tierRates(entry["priority"], model: model, field: "priority")
            prices[key] = price
        }
        return (name, prices)
    }

    /// `"flex": {"input": 0.625, "output": 5, "cache_read": 0.0625}`: a processing tier's rates; the cache-read rate
    /// defaults to the tier's input rate.
    private static func tierRates(
        _ value: JSONValue?, model: String, field: String
    ) throws(PricingFileError.Problem) -> ModelPrice.TierRates? {
        guard let value, !value.isNull else { return nil }
        guard let entry = value.objectValue else { throw .notAnObject(model: model, field: field) }
        for name in entry.keys.sorted() where !["input", "output", "cache_read"].contains(name) {
            throw .unexpectedField(model: model, field: "\(field).\(name)")
        }
        let rate = { (name: String) throws(PricingFileError.Problem) -> Double? in
            try amount(entry[name], model: model, field: "\(field).\(name)", scale: 1)
        }
        guard let input = try rate("input") else { throw .missingPrice(model: model, field: "\(field).input") }
        guard let output = try rate("output") else { throw .missingPrice(model: model, field: "\(field).output") }
        return ModelPrice.TierRates(input: input, output: output, cacheRead: try rate("cache_read") ?? input)
    }

    /// LiteLLM's tier fields (`input_cost_per_token_flex`, `output_cost_per_token_flex`,
    /// `cache_read_input_token_cost_flex`, and the `_priority` ones), per token; nil without the tier's input price.
    private static func liteLLMTier(
        _ entry: [String: JSONValue], _ tier: String, model: String
    ) throws(PricingFileError.Problem) -> ModelPrice.TierRates? {
        let rate = { (field: String) throws(PricingFileError.Problem) -> Double? in
            try amount(entry["\(field)_\(tier)"], model: model, field: "\(field)_\(tier)", scale: 1_000_000)
        }
        guard let input = try rate("input_cost_per_token"), let output = try rate("output_cost_per_token") else {
            return nil
        }
        return ModelPrice.TierRates(input: input, output: output, cacheRead: try rate("cache_read_input_token_cost") ?? input)
    }

    /// `"long_context": {"above_tokens": 200000, "input": 6, "output": 22.5, "cache_read": 0.6, "cache_write": 7.5,
    /// "cache_write_1h": 12}`: the cache rates default to the long-context input rate (one-hour writes to twice it).
    private static func longContext(
        _ value: JSONValue?, model: String
    ) throws(PricingFileError.Problem) -> ModelPrice.LongContext? {
        guard let value, !value.isNull else { return nil }
        guard let entry = value.objectValue else { throw .notAnObject(model: model, field: "long_context") }
        let fields: Set = ["above_tokens", "input", "output", "cache_read", "cache_write", "cache_write_1h"]
        for field in entry.keys.sorted() where !fields.contains(field) {
            throw .unexpectedField(model: model, field: "long_context.\(field)")
        }
        guard let threshold = entry["above_tokens"]?.doubleValue, threshold.isFinite, threshold >= 1,
            threshold <= Double(TokenUsage.countRange.upperBound), threshold.rounded() == threshold
        else {
            throw .invalidPrice(
                model: model, field: "long_context.above_tokens", reason: "must be a whole number of tokens, at least 1")
        }
        let rate = { (field: String) throws(PricingFileError.Problem) -> Double? in
            try amount(entry[field], model: model, field: "long_context.\(field)", scale: 1)
        }
        guard let input = try rate("input") else { throw .missingPrice(model: model, field: "long_context.input") }
        guard let output = try rate("output") else { throw .missingPrice(model: model, field: "long_context.output") }
        return ModelPrice.LongContext(
            above: Int(threshold), input: input, output: output, cacheRead: try rate("cache_read") ?? input,
            cacheWrite: try rate("cache_write") ?? input, cacheWriteOneHour: try rate("cache_write_1h"))
    }

    /// LiteLLM's tiered fields (`input_cost_per_token_above_200k_tokens`, …, and the `_128k_` ones), per token.
    private static func liteLLMLongContext(
        _ entry: [String: JSONValue], model: String, base: ModelPrice
    ) throws(PricingFileError.Problem) -> ModelPrice.LongContext? {
        for threshold in [200_000, 128_000] {
            let suffix = "_above_\(threshold / 1000)k_tokens"
            let rate = { (field: String) throws(PricingFileError.Problem) -> Double? in
                try amount(entry[field + suffix], model: model, field: field + suffix, scale: 1_000_000)
            }
            guard let input = try rate("input_cost_per_token") else { continue }
            let output = try rate("output_cost_per_token") ?? base.output
            return ModelPrice.LongContext(
                above: threshold, input: input, output: output,
                cacheRead: try rate("cache_read_input_token_cost") ?? base.cacheRead,
                cacheWrite: try rate("cache_creation_input_token_cost") ?? base.cacheWrite,
                cacheWriteOneHour: try rate("cache_creation_input_token_cost_above_1hr") ?? base.cacheWriteOneHour)
        }
        return nil
    }

    private static func versionName(_ value: JSONValue) throws(PricingFileError.Problem) -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
        guard let name = value.stringValue, (1...64).contains(name.count), name.allSatisfy(allowed.contains) else {
            throw .invalidName("\"version\" must be 1 to 64 letters, digits, dots, dashes or underscores")
        }
        return name
    }

    private static func looksLikeLiteLLM(_ root: [String: JSONValue]) -> Bool {
        root["sample_spec"] != nil
            || root.values.contains { entry in
                entry["input_cost_per_token"] != nil || entry["output_cost_per_token"] != nil
                    || entry["litellm_provider"] != nil
            }
    }

    /// Providers whose LiteLLM entries carry the model maker's own price, so `gemini/gemini-2.5-pro` may price
    /// `gemini-2.5-pro` when the file has no bare entry for it; gateways and clouds (`openrouter/`, `azure/`,
    /// `bedrock/`) resell at their own prices and never do.
    private static let firstPartyProviders: Set = [
        "openai", "text-completion-openai", "anthropic", "gemini", "vertex_ai-language-models", "mistral",
        "codestral", "deepseek", "xai",
    ]

    private static func liteLLMPrices(_ root: [String: JSONValue]) throws(PricingFileError.Problem) -> [String: ModelPrice] {
        var bare: [String: ModelPrice] = [:]
        var prefixed: [String: ModelPrice] = [:]
        for model in root.keys.sorted() where model != "sample_spec" {
            guard let entry = root[model]?.objectValue else { continue }
            let rate = { (field: String) throws(PricingFileError.Problem) -> Double? in
                try amount(entry[field], model: model, field: field, scale: 1_000_000)
            }
            guard let input = try rate("input_cost_per_token"), let output = try rate("output_cost_per_token") else {
                continue
            }
            var price = ModelPrice(
                input: input, output: output, cacheRead: try rate("cache_read_input_token_cost") ?? input,
                cacheWrite: try rate("cache_creation_input_token_cost") ?? input,
                cacheWriteOneHour: try rate("cache_creation_input_token_cost_above_1hr"),
                reasoning: try rate("output_cost_per_reasoning_token"))
            price.longContext = try liteLLMLongContext(entry, model: model, base: price)
            price.flex = try liteLLMTier(entry, "flex", model: model)
            price.priority = try liteLLMTier(entry, "priority", model: model)
            let key = PriceTable.canonicalName(of: model)
            if key.isEmpty { continue }
            if key == model.lowercased() {
                if bare[key] == nil { bare[key] = price }
            } else if let provider = entry["litellm_provider"]?.stringValue, firstPartyProviders.contains(provider),
                prefixed[key] == nil
            {
                prefixed[key] = price
            }
        }
        return bare.merging(prefixed) { bareEntry, _ in bareEntry }
    }

    /// A price in the file in USD per million tokens: a finite, non-negative number times `scale` (a million for
    /// per-token prices). Nil when absent or null.
    private static func amount(
        _ value: JSONValue?, model: String, field: String, scale: Double
    ) throws(PricingFileError.Problem) -> Double? {
        guard let value, !value.isNull else { return nil }
        guard let number = value.doubleValue, number.isFinite else {
            throw .invalidPrice(model: model, field: field, reason: "is not a number")
        }
        guard number >= 0 else { throw .invalidPrice(model: model, field: field, reason: "is negative (\(number))") }
        guard number * scale <= ModelPrice.maximumRate else {
            throw .invalidPrice(
                model: model, field: field,
                reason: "is more than \(Int(ModelPrice.maximumRate)) USD per million tokens (\(number))")
        }
        return ModelPrice.rate(number * scale)
    }
}
