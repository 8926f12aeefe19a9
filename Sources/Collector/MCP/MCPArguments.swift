import MCP

/// A tool call's `arguments`, read one named argument at a time; a missing, mistyped or out-of-range value is an
/// `MCPToolError` naming the argument. Unknown names are refused, so a typo (`sesion_id`) is not silently ignored.
struct MCPArguments {
    private let values: [String: Value]

    init(_ values: [String: Value]?, allowed: Set<String>) throws(MCPToolError) {
        self.values = values ?? [:]
        let unknown = self.values.keys.filter { !allowed.contains($0) }.sorted()
        guard unknown.isEmpty else {
            let names = allowed.sorted().joined(separator: ", ")
            throw MCPToolError(
                "unknown argument\(unknown.count == 1 ? "" : "s") \(unknown.joined(separator: ", ")); "
                    + (allowed.isEmpty ? "this tool takes none" : "this tool takes \(names)"))
        }
    }

    /// A string argument; nil when absent or null. Empty or whitespace-only text counts as absent.
    func string(_ name: String) throws(MCPToolError) -> String? {
        guard let value = values[name], !value.isNull else { return nil }
        guard let text = value.stringValue else { throw MCPToolError("\(name) must be a string") }
        guard text.count <= Self.maximumStringLength else {
            throw MCPToolError("\(name) must be at most \(Self.maximumStringLength) characters")
        }
        return text.allSatisfy(\.isWhitespace) ? nil : text
    }

    func requiredString(_ name: String) throws(MCPToolError) -> String {
        guard let text = try string(name) else { throw MCPToolError("\(name) is required (a non-empty string)") }
        return text
    }

    /// An integer argument within `range`, `defaultValue` when absent. Whole numbers written as `20.0` count.
    func integer(_ name: String, default defaultValue: Int, range: ClosedRange<Int>) throws(MCPToolError) -> Int {
        guard let value = values[name], !value.isNull else { return defaultValue }
        let number: Int? =
            switch value {
            case .int(let int): int
            case .double(let double): double.rounded() == double && abs(double) < 1e15 ? Int(double) : nil
            default: nil
            }
        guard let number, range.contains(number) else {
            throw MCPToolError("\(name) must be an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }

    /// A time in µs since the epoch: ISO-8601 or epoch seconds (as the HTTP API's `since`), or a duration before
    /// `now` (`30m`, `24h`, `7d`). Nil when absent.
    func time(_ name: String, now: Int64) throws(MCPToolError) -> Int64? {
        guard let text = try string(name) else { return nil }
        if let micros = Self.durationMicros(text) { return now - micros }
        guard let micros = TimeParameter.micros(text) else {
            throw MCPToolError(
                "\(name) must be an ISO-8601 time (2026-04-03T12:00:00Z), seconds since the epoch, or a duration such as 30m, 24h or 7d; not \(text)"
            )
        }
        return micros
    }

    /// `30s`, `15m`, `24h`, `7d` as microseconds; nil for anything else, or beyond ten years.
    static func durationMicros(_ text: String) -> Int64? {
        guard let unit = text.last, let count = Int64(text.dropLast()), count >= 0, count <= 3650 * 86_400 else { return nil }
        let seconds: Int64
        switch unit {
        case "s": seconds = count
        case "m": seconds = count * 60
        case "h": seconds = count * 3600
        case "d": seconds = count * 86_400
        default: return nil
        }
        guard seconds <= 3650 * 86_400 else { return nil }
        return seconds * 1_000_000
    }

    /// Longer strings are refused before they reach a query.
    static let maximumStringLength = 4096
}
