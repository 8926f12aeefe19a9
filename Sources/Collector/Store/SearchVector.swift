import NIOCore
import PostgresNIO

/// A call's search words as a Postgres `tsvector`, built in Swift and bound in `tsvector`'s binary form, so
/// Postgres neither parses the document (`to_tsvector('simple', …)`, about a third of its CPU per stored call)
/// nor the text form of a vector (`'word':1,4 'other':2`, a further tenth).
///
/// The vector is made only where it equals what `to_tsvector('simple', document)` makes of the same words, so
/// stored rows and search results do not change: the document is ASCII (`SearchText` leaves only `a`–`z`, `0`–`9`
/// and single spaces there), and no word is one the default parser splits: digits, `e`, digits and then more, as
/// `1e5x`, which it reads as the number `1e5` and the word `x`. Anything else answers nil and Postgres parses it.
/// Postgres's limits hold as in `to_tsvector`: words of 2047 bytes or more are skipped without taking a position,
/// positions stop at 16383, and a word keeps at most 255 positions.
struct SearchVector: Sendable, Equatable {
    static let maximumWordBytes = 2047
    static let maximumPosition = 16383
    static let maximumPositions = 255

    /// `tsvectorrecv`'s format, built once: the number of lexemes, then each as its bytes with a NUL, its number of
    /// positions and the positions (weight D, so just the number), all big-endian. Lexemes come in Postgres's own
    /// order (byte-wise, a prefix first), so it does not sort them again.
    private let encoded: [UInt8]

    /// The vector of `parts` joined by spaces, or nil where only Postgres's parser can say what it is.
    init?(of parts: [String]) {
        var text: [UInt8] = []
        text.reserveCapacity(parts.reduce(parts.count) { $0 + $1.utf8.count })
        for part in parts {
            text.append(contentsOf: part.utf8)
            text.append(0x20)
        }
        guard let words = Self.sortedWords(of: text) else { return nil }
        var encoded: [UInt8] = []
        // At most: the count, each word's bytes and NUL, and a position count and position per word.
        encoded.reserveCapacity(4 + text.count + 4 * words.count)
        encoded.append(contentsOf: [0, 0, 0, 0])
        var lexemes: UInt32 = 0
        text.withUnsafeBufferPointer { text in
            var index = 0
            while index < words.count {
                let word = words[index]
                encoded.append(contentsOf: UnsafeBufferPointer(rebasing: text[word.start..<word.start + word.count]))
                encoded.append(0)
                let countAt = encoded.count
                encoded.append(contentsOf: [0, 0])
                var last = UInt16(word.position)
                Self.appendBigEndian(last, to: &encoded)
                var count: UInt16 = 1
                index += 1
                while index < words.count, Self.compare(words[index], word, in: text) == 0 {
                    let next = UInt16(words[index].position)
                    if count < Self.maximumPositions, last != Self.maximumPosition, next != last {
                        Self.appendBigEndian(next, to: &encoded)
                        last = next
                        count += 1
                    }
                    index += 1
                }
                encoded[countAt] = UInt8(count >> 8)
                encoded[countAt + 1] = UInt8(truncatingIfNeeded: count)
                lexemes += 1
            }
        }
        withUnsafeBytes(of: lexemes.bigEndian) { bytes in
            for offset in 0..<4 { encoded[offset] = bytes[offset] }
        }
        self.encoded = encoded
    }

    /// The text form, as Postgres prints it (`'a':4,5 'b':3`), read back from the binary one.
    var literal: String {
        var entries: [String] = []
        var offset = 4
        func uint16() -> Int {
            defer { offset += 2 }
            return Int(encoded[offset]) << 8 | Int(encoded[offset + 1])
        }
        while offset < encoded.count {
            let end = encoded[offset...].firstIndex(of: 0)!
            let word = String(decoding: encoded[offset..<end], as: UTF8.self)
            offset = end + 1
            let positions = (0..<uint16()).map { _ in String(uint16()) }
            entries.append("'\(word)':" + positions.joined(separator: ","))
        }
        return entries.joined(separator: " ")
    }

    private static func appendBigEndian(_ value: UInt16, to bytes: inout [UInt8]) {
        bytes.append(UInt8(value >> 8))
        bytes.append(UInt8(truncatingIfNeeded: value))
    }

    /// A word of the document: where its bytes are, its first eight bytes (big-endian, zero-padded: words hold no
    /// zero byte, so these order as the bytes do), and its position.
    private struct Word {
        var start: Int
        var count: Int
        var prefix: UInt64
        var position: Int
    }

    /// The document's words in Postgres's order, equal words by position; nil if the parser would read it otherwise.
    private static func sortedWords(of text: [UInt8]) -> [Word]? {
        text.withUnsafeBufferPointer { text -> [Word]? in
            var words: [Word] = []
            var position = 0
            var start = 0
            for index in text.indices {
                let byte = text[index]
                guard byte == 0x20 else {
                    guard isWordByte(byte) else { return nil }
                    continue
                }
                defer { start = index + 1 }
                guard index > start, index - start < maximumWordBytes else { continue }
                let word = UnsafeBufferPointer(rebasing: text[start..<index])
                guard !isSplitByParser(word) else { return nil }
                position += 1
                var prefix: UInt64 = 0
                for offset in 0..<8 { prefix = prefix << 8 | UInt64(offset < word.count ? word[offset] : 0) }
                words.append(Word(start: start, count: word.count, prefix: prefix, position: min(position, maximumPosition)))
            }
            words.sort { a, b in
                let order = compare(a, b, in: text)
                return order != 0 ? order < 0 : a.position < b.position
            }
            return words
        }
    }

    private static func isWordByte(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    private static func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }

    /// Digits, `e`, at least one digit, then anything: the parser ends a number in scientific notation there.
    private static func isSplitByParser(_ word: UnsafeBufferPointer<UInt8>) -> Bool {
        var index = word.startIndex
        while index < word.endIndex, isDigit(word[index]) { index += 1 }
        guard index > word.startIndex, index < word.endIndex, word[index] == UInt8(ascii: "e") else { return false }
        index += 1
        let mantissa = index
        while index < word.endIndex, isDigit(word[index]) { index += 1 }
        return index > mantissa && index < word.endIndex
    }

    /// Postgres's order of lexemes (`tsCompareString`): byte-wise, then the shorter first.
    private static func compare(_ a: Word, _ b: Word, in text: UnsafeBufferPointer<UInt8>) -> Int {
        if a.prefix != b.prefix { return a.prefix < b.prefix ? -1 : 1 }
        if a.count > 8 && b.count > 8 {
            for offset in 8..<min(a.count, b.count) where text[a.start + offset] != text[b.start + offset] {
                return text[a.start + offset] < text[b.start + offset] ? -1 : 1
            }
        }
        return a.count - b.count
    }
}

/// Bound in binary: `encoded` is `tsvectorrecv`'s format.
extension SearchVector: PostgresNonThrowingEncodable, PostgresArrayEncodable {
    static var psqlType: PostgresDataType { .tsvector }
    static var psqlArrayType: PostgresDataType { .tsvectorArray }
    static var psqlFormat: PostgresFormat { .binary }

    func encode<JSONEncoder: PostgresJSONEncoder>(into buffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>) {
        buffer.writeBytes(encoded)
    }
}
