import LedgerProtocol

/// A JSON value whose object keys keep their written order, so one answer always serializes to the same bytes.
enum MockJSON: Sendable {
    case null
    case bool(Bool)
    case int(Int)
    case string(String)
    case array([MockJSON])
    case object([(String, MockJSON)])

    /// The compact serialization, keys in the order they were written.
    var text: String {
        var output = ""
        write(into: &output)
        return output
    }

    private func write(into output: inout String) {
        switch self {
        case .null:
            output += "null"
        case .bool(let value):
            output += value ? "true" : "false"
        case .int(let value):
            output += String(value)
        case .string(let value):
            Self.writeString(value, into: &output)
        case .array(let elements):
            output += "["
            for (index, element) in elements.enumerated() {
                if index > 0 { output += "," }
                element.write(into: &output)
            }
            output += "]"
        case .object(let members):
            output += "{"
            for (index, (key, value)) in members.enumerated() {
                if index > 0 { output += "," }
                Self.writeString(key, into: &output)
                output += ":"
                value.write(into: &output)
            }
            output += "}"
        }
    }

    private static func writeString(_ value: String, into output: inout String) {
        output += JSONString.quoted(value)
    }
}

extension MockJSON: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByNilLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    init(stringLiteral value: String) { self = .string(value) }
    init(integerLiteral value: Int) { self = .int(value) }
    init(booleanLiteral value: Bool) { self = .bool(value) }
    init(nilLiteral: ()) { self = .null }
    init(arrayLiteral elements: MockJSON...) { self = .array(elements) }
    init(dictionaryLiteral elements: (String, MockJSON)...) { self = .object(elements) }

    /// A string, or `null` when there is none.
    static func optional(_ value: String?) -> MockJSON {
        value.map(MockJSON.string) ?? .null
    }
}
