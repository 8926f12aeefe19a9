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
    /// Nil for a model the table does not know: never priced at zero.
    package func price(for model: String) -> ModelPrice? {
        let name = Self.canonicalName(of: model)
        var best: (key: String, price: ModelPrice)?
        for (key, price) in prices where Self.name(name, startsWithWord: key) {
            if key.utf8.count > (best?.key.utf8.count ?? -1) { best = (key, price) }
        }
        return best?.price
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

    /// `key` is a prefix of `name` and is not followed by a letter or digit (`gpt-4` does not start `gpt-4o`).
    private static func name(_ name: String, startsWithWord key: String) -> Bool {
        guard name.hasPrefix(key) else { return false }
        let rest = name.utf8.dropFirst(key.utf8.count)
        guard let next = rest.first else { return true }
        let isLetter = (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(next)
        let isDigit = (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(next)
        return !isLetter && !isDigit
    }
}
