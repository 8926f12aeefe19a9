import Foundation

/// A request's query string, form-decoded (`+` is a space), read one named parameter at a time; a value that
/// does not parse is a 400 whose detail names the parameter.
struct QueryParameters {
    private var values: [String: String] = [:]

    init(_ query: String?) {
        for pair in (query ?? "").split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = Self.decode(parts[0]), values[name] == nil else { continue }
            values[name] = parts.count > 1 ? Self.decode(parts[1]) ?? "" : ""
        }
    }

    private static func decode(_ text: Substring) -> String? {
        let spaced = text.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }

    /// The first non-empty value of the names given.
    func string(_ names: String...) -> String? {
        names.lazy.compactMap { values[$0] }.first { !$0.isEmpty }
    }

    func integer(_ name: String, default value: Int, range: ClosedRange<Int>) throws -> Int {
        guard let raw = string(name) else { return value }
        guard let number = Int(raw), range.contains(number) else {
            throw APIError(.badRequest, "\(name) must be an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }

    /// `limit`: 1 or more, default 50; anything above `SessionQuery.maximumLimit` is capped to it.
    func limit() throws -> Int {
        min(try integer("limit", default: 50, range: 1...Int(Int32.max)), SessionQuery.maximumLimit)
    }

    /// A time in microseconds since the epoch (see `TimeParameter`), nil when absent.
    func time(_ name: String) throws -> Int64? {
        guard let raw = string(name) else { return nil }
        guard let micros = TimeParameter.micros(raw) else {
            throw APIError(.badRequest, "\(name) must be an ISO-8601 time or seconds since the epoch, not \(raw)")
        }
        return micros
    }
}
