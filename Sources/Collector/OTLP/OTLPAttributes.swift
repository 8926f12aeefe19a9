import OTLPProto

/// A span's or a resource's attributes by key (the first of a repeated key wins), read as the types the
/// conventions give them, with the looser forms instrumentations send (numbers as strings, arrays as JSON text).
struct Attributes {
    private var values: [String: Opentelemetry_Proto_Common_V1_AnyValue] = [:]

    init(_ list: [Opentelemetry_Proto_Common_V1_KeyValue]) {
        values.reserveCapacity(list.count)
        for keyValue in list where values[keyValue.key] == nil { values[keyValue.key] = keyValue.value }
    }

    var keys: Dictionary<String, Opentelemetry_Proto_Common_V1_AnyValue>.Keys { values.keys }

    func string(_ key: String) -> String? {
        guard let value = values[key] else { return nil }
        switch value.value {
        case .stringValue(let string): return string.isEmpty ? nil : string
        case .intValue(let number): return String(number)
        case .doubleValue(let number): return String(number)
        case .boolValue(let flag): return String(flag)
        default: return nil
        }
    }

    /// The first key of `keys` that holds a non-empty string.
    func first(string keys: String...) -> String? {
        for key in keys { if let value = string(key) { return value } }
        return nil
    }

    func double(_ key: String) -> Double? {
        switch values[key]?.value {
        case .doubleValue(let number): number
        case .intValue(let number): Double(number)
        case .stringValue(let text): Double(text)
        default: nil
        }
    }

    func int(_ key: String) -> Int? {
        switch values[key]?.value {
        case .intValue(let number): Int(exactly: number)
        case .doubleValue(let number): Int(exactly: number)
        case .stringValue(let text): Int(text)
        default: nil
        }
    }

    func bool(_ key: String) -> Bool? {
        switch values[key]?.value {
        case .boolValue(let flag): flag
        case .stringValue(let text): text == "true" ? true : text == "false" ? false : nil
        default: nil
        }
    }

    /// A token count as JSON, for `TokenUsage.read`: the first of `keys` present, whatever its type, so a bad
    /// count is reported rather than skipped.
    func number(_ keys: String...) -> JSONValue? {
        for key in keys {
            guard let value = values[key] else { continue }
            if case .stringValue(let text) = value.value, let number = Int64(text) { return .int(number) }
            return Self.json(value)
        }
        return nil
    }

    /// An array of strings, or a string holding a JSON array of strings.
    func strings(_ key: String) -> [String]? {
        switch values[key]?.value {
        case .arrayValue(let array):
            let strings = array.values.compactMap { value -> String? in
                if case .stringValue(let string) = value.value { return string }
                return nil
            }
            return strings.isEmpty ? nil : strings
        case .stringValue(let text):
            if let parsed = try? JSONReader.parse(text), let array = parsed.arrayValue {
                let strings = array.compactMap(\.stringValue)
                return strings.isEmpty ? nil : strings
            }
            return text.isEmpty ? nil : [text]
        default:
            return nil
        }
    }

    /// The value as JSON: a string holding JSON (most instrumentations write structures that way) is parsed when
    /// `parsingStrings` is set.
    func json(_ key: String, parsingStrings: Bool = true) -> JSONValue? {
        guard let value = values[key] else { return nil }
        if parsingStrings, case .stringValue(let text) = value.value, let first = text.first, first == "[" || first == "{" {
            return (try? JSONReader.parse(text)) ?? .string(text)
        }
        return Self.json(value)
    }

    static func json(_ value: Opentelemetry_Proto_Common_V1_AnyValue, depth: Int = 0) -> JSONValue {
        guard depth < 32 else { return .null }
        switch value.value {
        case .stringValue(let string): return .string(string)
        case .boolValue(let flag): return .bool(flag)
        case .intValue(let number): return .int(number)
        case .doubleValue(let number): return .double(number)
        case .arrayValue(let array): return .array(array.values.map { json($0, depth: depth + 1) })
        case .kvlistValue(let list):
            var object: [String: JSONValue] = [:]
            for keyValue in list.values where object[keyValue.key] == nil {
                object[keyValue.key] = json(keyValue.value, depth: depth + 1)
            }
            return .object(object)
        case .bytesValue(let bytes): return .string(bytes.base64EncodedString())
        case .stringValueStrindex, .none: return .null
        }
    }
}
