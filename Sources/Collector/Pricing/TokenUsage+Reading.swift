/// Token counts read from a provider's JSON, each checked against `countRange` at that edge: a count that is
/// negative, absurdly large or not a whole number is not counted, and the record says why (docs/operations.md,
/// "Limits and hardening").
extension TokenUsage {
    /// Counts accepted for one field of one call: a billion tokens is a hundred times the largest context window
    /// offered today, and keeps every sum of a call's counts, and its cost in nanodollars, far inside 64 bits.
    package static let countRange = 0...1_000_000_000

    /// Sets `field` from `value` when it is a whole number in `countRange`; else sets it to nil and notes the problem
    /// under `name`. An absent or null value leaves the field as it was, so later usage objects can complete earlier
    /// ones.
    mutating func read(_ field: WritableKeyPath<TokenUsage, Int?>, from value: JSONValue?, name: String) {
        guard let value, !value.isNull else { return }
        if let count = value.intValue, Self.countRange.contains(count) {
            self[keyPath: field] = count
            return
        }
        self[keyPath: field] = nil
        rejected.append(
            "usage \(name) \(Self.shown(value)) is not a token count in 0...\(Self.countRange.upperBound); not counted")
    }

    /// A number as sent; anything else by its kind, so a hostile value is never echoed at length.
    private static func shown(_ value: JSONValue) -> String {
        switch value {
        case .int(let number): "\(number)"
        case .double(let number): "\(number)"
        case .string: "(a string)"
        case .bool: "(a boolean)"
        case .array: "(an array)"
        case .object: "(an object)"
        case .null: "(null)"
        }
    }
}
