/// A call's search words as the text of a Postgres `tsvector`, built in Swift so Postgres only reads it
/// (`'word':1,4 'other':2`) instead of parsing the document with `to_tsvector('simple', …)`, about a third of its
/// CPU per stored call.
///
/// The literal is made only where it equals what `to_tsvector('simple', document)` makes of the same words, so
/// stored rows and search results do not change: the document is ASCII (`SearchText` leaves only `a`–`z`, `0`–`9`
/// and single spaces there), and no word is one the default parser splits: digits, `e`, digits and then more, as
/// `1e5x`, which it reads as the number `1e5` and the word `x`. Anything else answers nil and Postgres parses it.
/// Postgres's limits hold as in `to_tsvector`: words of 2047 bytes or more are skipped without taking a position,
/// positions stop at 16383, and a word keeps at most 255 positions.
enum SearchVector {
    static let maximumWordBytes = 2047
    static let maximumPosition = 16383
    static let maximumPositions = 255

    /// The `tsvector` text of `parts` joined by spaces, or nil where only Postgres's parser can say what it is.
    static func literal(of parts: [String]) -> String? {
        var text: [UInt8] = []
        text.reserveCapacity(parts.reduce(parts.count) { $0 + $1.utf8.count })
        for part in parts {
            text.append(contentsOf: part.utf8)
            text.append(0x20)
        }
        return text.withUnsafeBufferPointer { text in
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
                words.append(Word(start: start, count: index - start, position: min(position, maximumPosition)))
            }
            func bytes(_ word: Word) -> UnsafeBufferPointer<UInt8> {
                UnsafeBufferPointer(rebasing: text[word.start..<word.start + word.count])
            }
            words.sort { a, b in
                let order = compare(bytes(a), bytes(b))
                return order != 0 ? order < 0 : a.position < b.position
            }
            var literal: [UInt8] = []
            literal.reserveCapacity(text.count + 6 * words.count)
            var index = 0
            while index < words.count {
                let word = words[index]
                if !literal.isEmpty { literal.append(0x20) }
                literal.append(UInt8(ascii: "'"))
                literal.append(contentsOf: bytes(word))
                literal.append(contentsOf: "':".utf8)
                appendDecimal(word.position, to: &literal)
                var last = word.position
                var count = 1
                index += 1
                while index < words.count, compare(bytes(words[index]), bytes(word)) == 0 {
                    let next = words[index].position
                    if count < maximumPositions, last != maximumPosition, next != last {
                        literal.append(UInt8(ascii: ","))
                        appendDecimal(next, to: &literal)
                        last = next
                        count += 1
                    }
                    index += 1
                }
            }
            return String(decoding: literal, as: UTF8.self)
        }
    }

    /// A word of the document: where its bytes are, and its position.
    private struct Word {
        var start: Int
        var count: Int
        var position: Int
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

    /// Byte-wise order; the order of lexemes in the literal does not matter to Postgres, only their grouping.
    private static func compare(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Int {
        for index in 0..<min(a.count, b.count) where a[index] != b[index] { return a[index] < b[index] ? -1 : 1 }
        return a.count - b.count
    }

    private static func appendDecimal(_ value: Int, to bytes: inout [UInt8]) {
        if value >= 10 { appendDecimal(value / 10, to: &bytes) }
        bytes.append(UInt8(ascii: "0") + UInt8(value % 10))
    }
}
