import LedgerProtocol

/// Case-insensitive header lookups on the ingest path, without lower-casing every header name of every call.
///
/// Answers exactly as `name.lowercased() == wanted` would: ASCII names are compared byte by byte, any other
/// name takes Unicode lower-casing (some non-ASCII letters lower-case to ASCII ones, such as the Kelvin sign).
enum HeaderLookup {
    /// The first value of the header named `wanted` (lower-case), or nil.
    static func value(of wanted: String, in headers: [HeaderField]) -> String? {
        headers.first { matches($0.name, wanted) }?.value
    }

    /// Whether `name` lower-cases to `wanted`, which is lower-case ASCII.
    static func matches(_ name: String, _ wanted: String) -> Bool {
        let answer = name.utf8.withContiguousStorageIfAvailable { name in
            wanted.utf8.withContiguousStorageIfAvailable { wanted -> Bool? in
                guard name.allSatisfy({ $0 < 0x80 }) else { return nil }
                guard name.count == wanted.count else { return false }
                for index in 0..<name.count {
                    let byte = name[index]
                    let lowered = byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 32 : byte
                    if lowered != wanted[index] { return false }
                }
                return true
            } ?? nil
        }
        if let answer, let answer { return answer }
        return name.lowercased() == wanted
    }

    /// Whether `text` holds `pattern` (ASCII), compared as bytes. Nil when `text` is not ASCII.
    static func asciiContains(_ text: String, _ pattern: String) -> Bool? {
        let found = text.utf8.withContiguousStorageIfAvailable { text -> Bool? in
            guard text.allSatisfy({ $0 < 0x80 }) else { return nil }
            let pattern = Array(pattern.utf8)
            guard !pattern.isEmpty else { return true }
            guard text.count >= pattern.count else { return false }
            for start in 0...(text.count - pattern.count)
            where text[start] == pattern[0] && text[start..<start + pattern.count].elementsEqual(pattern) {
                return true
            }
            return false
        }
        return found ?? nil
    }
}
