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

    /// The distinct words in Postgres's order (byte-wise, a prefix first), each followed by its positions.
    private let text: [UInt8]
    private let lexemes: [Lexeme]
    private let positions: [UInt16]

    private struct Lexeme: Equatable {
        var bytes: Range<Int>
        var positions: Range<Int>
    }

    /// The vector of `parts` joined by spaces, or nil where only Postgres's parser can say what it is.
    init?(of parts: [String]) {
        var text: [UInt8] = []
        text.reserveCapacity(parts.reduce(parts.count) { $0 + $1.utf8.count })
        for part in parts {
            text.append(contentsOf: part.utf8)
            text.append(0x20)
        }
        guard let words = Self.sortedWords(of: text) else { return nil }
        var lexemes: [Lexeme] = []
        var positions: [UInt16] = []
        positions.reserveCapacity(words.count)
        text.withUnsafeBufferPointer { text in
            var index = 0
            while index < words.count {
                let word = words[index]
                let first = positions.count
                positions.append(UInt16(word.position))
                var count = 1
                index += 1
                while index < words.count, Self.compare(words[index], word, in: text) == 0 {
                    let next = UInt16(words[index].position)
                    if count < Self.maximumPositions, positions.last! != Self.maximumPosition, next != positions.last! {
                        positions.append(next)
                        count += 1
                    }
                    index += 1
                }
                lexemes.append(Lexeme(bytes: word.start..<word.start + word.count, positions: first..<positions.count))
            }
        }
        self.text = text
        self.lexemes = lexemes
        self.positions = positions
    }

    /// The text form, as Postgres prints it: `'a':4,5 'b':3`.
    var literal: String {
        var literal: [UInt8] = []
        literal.reserveCapacity(text.count + 6 * lexemes.count)
        for lexeme in lexemes {
            if !literal.isEmpty { literal.append(0x20) }
            literal.append(UInt8(ascii: "'"))
            literal.append(contentsOf: text[lexeme.bytes])
            literal.append(contentsOf: "':".utf8)
            literal.append(contentsOf: positions[lexeme.positions].map { String($0) }.joined(separator: ",").utf8)
        }
        return String(decoding: literal, as: UTF8.self)
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

extension SearchVector: PostgresNonThrowingEncodable, PostgresArrayEncodable {
    static var psqlType: PostgresDataType { .tsvector }
    static var psqlArrayType: PostgresDataType { .tsvectorArray }
    static var psqlFormat: PostgresFormat { .binary }

    /// `tsvectorrecv`'s format: the number of lexemes, then each as its bytes with a NUL, its number of positions
    /// and the positions (weight D, so just the number), all big-endian. Lexemes come in Postgres's own order, so it
    /// does not sort them again.
    func encode<JSONEncoder: PostgresJSONEncoder>(into buffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>) {
        buffer.writeInteger(Int32(lexemes.count))
        for lexeme in lexemes {
            buffer.writeBytes(text[lexeme.bytes])
            buffer.writeInteger(UInt8(0))
            buffer.writeInteger(UInt16(lexeme.positions.count))
            for position in positions[lexeme.positions] { buffer.writeInteger(position) }
        }
    }
}
