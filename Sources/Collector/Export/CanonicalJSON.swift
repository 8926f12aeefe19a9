import LedgerProtocol

/// RFC 8785 (JCS) canonical JSON: the one byte form of a JSON value that export hashes and signatures cover.
///
/// Object members sorted by the UTF-16 code units of their names, no whitespace, strings with only the mandatory
/// escapes, and numbers as ECMAScript's `Number.prototype.toString` writes them (numbers are IEEE 754 doubles).
package enum CanonicalJSON {
    /// A value JCS cannot write: NaN and the infinities have no JSON form.
    package struct Failure: Error, Equatable, CustomStringConvertible {
        package var reason: String
        package var description: String { reason }
    }

    package static func bytes(of value: JSONValue) throws(Failure) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(1024)
        try write(value, to: &output)
        return output
    }

    /// The canonical form of JSON text, read with the collector's `JSONReader`.
    package static func bytes(ofJSON json: [UInt8]) throws -> [UInt8] {
        try bytes(of: try JSONReader.parse(json))
    }

    package static func text(of value: JSONValue) throws(Failure) -> String {
        String(decoding: try bytes(of: value), as: UTF8.self)
    }

    private static func write(_ value: JSONValue, to output: inout [UInt8]) throws(Failure) {
        switch value {
        case .null: output.append(contentsOf: "null".utf8)
        case .bool(let flag): output.append(contentsOf: (flag ? "true" : "false").utf8)
        case .int(let integer): output.append(contentsOf: number(integer).utf8)
        case .double(let double):
            guard let text = number(double) else { throw Failure(reason: "\(double) has no JSON form") }
            output.append(contentsOf: text.utf8)
        case .string(let string): writeString(string, to: &output)
        case .array(let elements):
            output.append(UInt8(ascii: "["))
            for (position, element) in elements.enumerated() {
                if position > 0 { output.append(UInt8(ascii: ",")) }
                try write(element, to: &output)
            }
            output.append(UInt8(ascii: "]"))
        case .object(let members):
            output.append(UInt8(ascii: "{"))
            let names = members.keys.sorted { $0.utf16.lexicographicallyPrecedes($1.utf16) }
            for (position, name) in names.enumerated() {
                if position > 0 { output.append(UInt8(ascii: ",")) }
                writeString(name, to: &output)
                output.append(UInt8(ascii: ":"))
                try write(members[name] ?? .null, to: &output)
            }
            output.append(UInt8(ascii: "}"))
        }
    }

    /// RFC 8785 section 3.2.2.2: `"` and `\` escaped, the controls below U+0020 as `\b \t \n \f \r` or `\u00xx`,
    /// everything else (U+007F, U+2028, non-ASCII) as its UTF-8 bytes, which is exactly what `JSONString` writes.
    private static func writeString(_ string: String, to output: inout [UInt8]) {
        JSONString.write(string, to: &output)
    }

    /// An integer as JCS sees it: a double, so integers beyond 2^53 are written as their nearest double.
    package static func number(_ integer: Int64) -> String {
        integer.magnitude <= 1 << 53 ? String(integer) : number(Double(integer)) ?? "0"
    }

    /// ECMAScript `Number.prototype.toString` (ECMA-262 section 6.1.6.1.20) of a finite double; nil for NaN and
    /// the infinities. Swift's `description` gives the shortest digits that round-trip; this lays them out.
    package static func number(_ value: Double) -> String? {
        guard value.isFinite else { return nil }
        if value == 0 { return "0" }
        let (digits, pointPosition) = decimalDigits(of: value.magnitude)
        let sign = value < 0 ? "-" : ""
        let k = digits.count
        let n = pointPosition
        if k <= n, n <= 21 { return sign + digits + String(repeating: "0", count: n - k) }
        if 0 < n, n <= 21 {
            let split = digits.index(digits.startIndex, offsetBy: n)
            return sign + digits[..<split] + "." + digits[split...]
        }
        if -6 < n, n <= 0 { return sign + "0." + String(repeating: "0", count: -n) + digits }
        let exponent = n - 1
        let exponentText = (exponent < 0 ? "e-" : "e+") + String(exponent.magnitude)
        guard k > 1 else { return sign + digits + exponentText }
        return sign + digits.prefix(1) + "." + digits.dropFirst() + exponentText
    }

    /// The shortest round-trip digits of a positive finite double, without leading or trailing zeros, and `n` such
    /// that the value is `0.digits × 10^n`.
    private static func decimalDigits(of magnitude: Double) -> (digits: String, pointPosition: Int) {
        var mantissa = Substring(magnitude.description)
        var exponent = 0
        if let e = mantissa.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exponent = Int(mantissa[mantissa.index(after: e)...]) ?? 0
            mantissa = mantissa[..<e]
        }
        let parts = mantissa.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let integerPart = parts[0]
        var digits = Substring(integerPart + (parts.count > 1 ? parts[1] : ""))
        var pointPosition = integerPart.count + exponent
        while digits.first == "0" {
            digits.removeFirst()
            pointPosition -= 1
        }
        while digits.last == "0" { digits.removeLast() }
        return (String(digits), pointPosition)
    }
}
