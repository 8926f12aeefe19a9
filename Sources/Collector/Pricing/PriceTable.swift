/// Model prices by name, with the version that is stamped on every record it prices.
package struct PriceTable: Sendable {
    package let version: String
    /// Lower-cased model names (or name prefixes) to prices.
    package let prices: [String: ModelPrice]

    package init(version: String, prices: [String: ModelPrice]) {
        self.version = version
        var lowered: [String: ModelPrice] = [:]
        for (name, price) in prices { lowered[name.lowercased()] = price }
        self.prices = lowered
    }

    /// The price of `model`: the LONGEST table name that starts the model's canonical name and ends at a word
    /// boundary wins, so `gpt-4o-mini` is not `gpt-4o` and `claude-sonnet-4-5-20250929` is `claude-sonnet-4-5`.
    ///
    /// A name does not fall back to a shorter family across a version or a size tier: `gpt-5.9`, `claude-opus-4-9`
    /// and `gpt-5-codex-mini` are not `gpt-5` or `claude-opus-4` (a date such as `-2024-08-06` or `-20250929` is
    /// not a version). Nil for a model the table does not know: counted as unpriced, never priced at zero or at a
    /// neighbour's rate.
    package func price(for model: String) -> ModelPrice? {
        let name = Array(Self.canonicalName(of: model).utf8)
        var end = name.count
        while end > 0 {
            if end < name.count {
                guard !Self.isWordByte(name[end]) else {
                    end -= 1
                    continue
                }
                if Self.isSizeTier(name, segmentAfter: end) { return nil }
            }
            if end == name.count || !Self.continuesVersion(name, at: end),
                let price = prices[String(decoding: name[..<end], as: UTF8.self)]
            {
                return price
            }
            end -= 1
        }
        return nil
    }

    /// The most a call can cost before its usage is known, for budget admission: every input token at the input
    /// rate (no cache discount) and `outputTokens` at the output rate. Nil for a model the table does not know.
    package func estimatedCost(model: String, inputTokens: Int, outputTokens: Int) -> Double? {
        price(for: model)?.cost(inputTokens: inputTokens, outputTokens: outputTokens)
    }

    /// Lower-cased, without a gateway prefix (`openai/`, `openrouter/anthropic/`, Bedrock's `us.anthropic.`);
    /// Claude names written with dots by gateways (`claude-3.5-sonnet`) get Anthropic's dashes.
    static func canonicalName(of model: String) -> String {
        var name = Substring(model.lowercased())
        while let first = name.first, first.isWhitespace { name = name.dropFirst() }
        while let last = name.last, last.isWhitespace { name = name.dropLast() }
        if let slash = name.lastIndex(of: "/") { name = name[name.index(after: slash)...] }
        if let vendor = name.firstRange(of: "anthropic.") { name = name[vendor.upperBound...] }
        var canonical = String(name)
        if canonical.hasPrefix("claude") { canonical = canonical.replacing(".", with: "-") }
        return canonical
    }

    /// Segments that name a different, usually cheaper or dearer, model of the same family.
    private static let sizeTiers: Set<String> = ["mini", "nano", "micro", "lite", "flash", "pro", "turbo"]

    private static func isWordByte(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || isDigit(byte)
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    /// The separator at `index` carries on a version number: `.1` in `gpt-5.1`, `-1` in `claude-opus-4-1`.
    private static func continuesVersion(_ name: [UInt8], at index: Int) -> Bool {
        var digits = index + 1
        while digits < name.count, isDigit(name[digits]) { digits += 1 }
        let count = digits - index - 1
        if name[index] == UInt8(ascii: ".") { return count > 0 }
        guard name[index] == UInt8(ascii: "-"), (1...2).contains(count) else { return false }
        return digits == name.count || !isWordByte(name[digits])
    }

    /// The word that follows the separator at `index` is a size tier such as `mini`.
    private static func isSizeTier(_ name: [UInt8], segmentAfter index: Int) -> Bool {
        var end = index + 1
        while end < name.count, isWordByte(name[end]) { end += 1 }
        return sizeTiers.contains(String(decoding: name[(index + 1)..<end], as: UTF8.self))
    }
}
