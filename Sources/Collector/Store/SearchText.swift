import Foundation

/// The text full-text search indexes and queries, normalized in Swift so both stores match the same words.
///
/// Letters and digits make words; every other character (`%`, `_`, `"`, `*`, `-`, punctuation) only separates
/// them, so nothing a user types can act as an operator or wildcard. Text is lowercased and NFC-normalized. Han,
/// Hiragana and Katakana, written without spaces, become one word per character; a query term is matched as a
/// phrase, so `東京` finds `東京の天気`. Other scripts match whole words (`Zürich`, not `Zür`); diacritics count.
enum SearchText {
    /// Postgres refuses a tsvector over 1 MiB of lexemes; a longer document is cut (oldest messages first).
    static let maximumDocumentBytes = 512 * 1024

    /// Message keys whose strings are structure or payload, not text anyone searches for.
    private static let skippedKeys: Set<String> = [
        "role", "type", "id", "tool_call_id", "tool_use_id", "signature", "data", "media_type", "url", "cache_control",
    ]

    /// What a call is found by: agent, user, output, system prompt, then the messages newest first.
    static func document(for record: CallRecord) -> String { document(for: record, messages: record.messages) }

    /// The document of a call indexed with only some of its messages: the stores index the messages a call brings
    /// that were new to the store, not the history it resends.
    static func document(for record: CallRecord, messages: [JSONValue]) -> String {
        let parts = parts(for: record, messages: messages)
        return ([parts.head] + parts.messages.reversed()).filter { !$0.isEmpty }.joined(separator: " ")
    }

    /// The same words in pieces: agent, user, output and system prompt, then one string per message in the order
    /// given, within one byte budget spent newest message first (an older message past it gets "").
    static func parts(for record: CallRecord, messages: [JSONValue]) -> (head: String, messages: [String]) {
        var document = Normalized(capacity: maximumDocumentBytes)
        for part in [record.agentName, record.userID, record.content, record.systemPrompt] {
            if let part { document.append(part) }
        }
        let head = document.take()
        var words = [String](repeating: "", count: messages.count)
        for index in messages.indices.reversed() where !document.isFull {
            appendStrings(of: messages[index], to: &document)
            words[index] = document.take()
        }
        return (head, words)
    }

    /// The query's whitespace-separated terms, each normalized to one or more words; terms without a letter
    /// or digit are dropped.
    static func terms(of query: String) -> [String] {
        query.split(whereSeparator: \.isWhitespace).compactMap { term in
            var normalized = Normalized(capacity: maximumDocumentBytes)
            normalized.append(String(term))
            return normalized.text.isEmpty ? nil : normalized.text
        }
    }

    private static func appendStrings(of value: JSONValue, to document: inout Normalized) {
        switch value {
        case .string(let text): document.append(text)
        case .array(let values):
            for value in values where !document.isFull { appendStrings(of: value, to: &document) }
        case .object(let object):
            for key in object.keys.sorted() where !skippedKeys.contains(key) && !document.isFull {
                appendStrings(of: object[key]!, to: &document)
            }
        default: break
        }
    }

    /// Words separated by single spaces, as UTF-8, up to a byte budget. ASCII text takes a byte-wise path.
    private struct Normalized {
        private var bytes: [UInt8] = []
        /// Bytes already handed out by `take()`, which count against the budget.
        private var taken = 0
        private let capacity: Int
        private(set) var isFull = false

        init(capacity: Int) { self.capacity = capacity }

        var text: String {
            String(decoding: bytes.last == 0x20 ? bytes.dropLast() : bytes[...], as: UTF8.self)
        }

        /// The words so far, which are then cleared; the budget stays spent.
        mutating func take() -> String {
            defer {
                taken += bytes.count
                bytes.removeAll(keepingCapacity: true)
            }
            return text
        }

        mutating func append(_ raw: String) {
            guard !isFull else { return }
            var raw = raw
            if raw.withUTF8({ $0.allSatisfy { $0 < 0x80 } }) {
                raw.withUTF8 { bytes in
                    for byte in bytes where !isFull { appendASCII(byte) }
                }
            } else {
                // Composing is slow, so only text with combining marks pays for it.
                let composed =
                    raw.unicodeScalars.contains { $0.value >= 0x300 && $0.properties.canonicalCombiningClass != .notReordered }
                    ? raw.precomposedStringWithCanonicalMapping : raw
                for scalar in composed.unicodeScalars where !isFull { appendScalar(scalar) }
            }
            space()
        }

        private mutating func appendASCII(_ byte: UInt8) {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"): add(byte)
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): add(byte + 32)
            default: space()
            }
        }

        private mutating func appendScalar(_ scalar: Unicode.Scalar) {
            if scalar.isASCII { return appendASCII(UInt8(scalar.value)) }
            if Self.isWrittenWithoutSpaces(scalar) {
                space()
                add(scalar)
                return space()
            }
            let properties = scalar.properties
            guard properties.isAlphabetic || properties.numericType != nil else { return space() }
            if properties.changesWhenLowercased {
                for lowered in properties.lowercaseMapping.unicodeScalars { add(lowered) }
            } else {
                add(scalar)
            }
        }

        private mutating func add(_ scalar: Unicode.Scalar) {
            guard taken + bytes.count + UTF8.width(scalar) < capacity else {
                isFull = true
                return
            }
            UTF8.encode(scalar) { bytes.append($0) }
        }

        private mutating func add(_ byte: UInt8) {
            guard taken + bytes.count + 1 < capacity else {
                isFull = true
                return
            }
            bytes.append(byte)
        }

        private mutating func space() {
            guard let last = bytes.last, last != 0x20 else { return }
            bytes.append(0x20)
        }

        private static func isWrittenWithoutSpaces(_ scalar: Unicode.Scalar) -> Bool {
            switch scalar.value {
            case 0x3041...0x3096, 0x309D...0x309F, 0x30A1...0x30FA, 0x30FC...0x30FF, 0x31F0...0x31FF, 0x3400...0x4DBF,
                0x4E00...0x9FFF, 0xF900...0xFAFF, 0xFF66...0xFF9D, 0x20000...0x2FA1F:
                return true
            default: return false
            }
        }
    }
}
