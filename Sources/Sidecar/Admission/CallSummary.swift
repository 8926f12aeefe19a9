import LedgerProviders
import NIOCore

/// What admission needs from a request body: the model and the output-token cap, in the members its format's
/// provider description names (`ProviderDescription.modelField`, `maxTokensFields`). Read by a scan of the top-level
/// JSON object's members, without building the document (a full parse cost more than the ADMIT round trip); a body
/// that is not a JSON object gives an empty model (the collector then reserves nothing it cannot price).
struct CallSummary: Equatable {
    var model: String
    var maxTokens: UInt32?

    init(model: String, maxTokens: UInt32?) {
        self.model = model
        self.maxTokens = maxTokens
    }

    /// The summary of a request of `format`, from the members its provider description names.
    init(body: ByteBuffer, format: ProviderFormat) {
        let described = format.described
        var model = ""
        var caps: [String: UInt32] = [:]
        body.withUnsafeReadableBytes { bytes in
            var scanner = TopLevelScanner(bytes: bytes)
            scanner.members { key, scanner in
                if key == described.modelField {
                    model = scanner.string() ?? ""
                } else if described.maxTokensFields.contains(key), let value = scanner.positiveInteger() {
                    caps[key] = value
                }
            }
        }
        self.model = model
        // The first named member that holds a cap (chat completions: the new name, then the old).
        maxTokens = described.maxTokensFields.lazy.compactMap { caps[$0] }.first
    }
}

/// Walks the members of a top-level JSON object, skipping nested values without decoding them.
struct TopLevelScanner {
    let bytes: UnsafeRawBufferPointer
    var index = 0

    init(bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    /// Calls `visit` with each member's key, positioned at its value; a value `visit` did not read is skipped.
    mutating func members(_ visit: (String, inout TopLevelScanner) -> Void) {
        skipSpace()
        guard next() == UInt8(ascii: "{") else { return }
        while true {
            skipSpace()
            guard peek() == UInt8(ascii: "\""), let key = string() else { return }
            skipSpace()
            guard next() == UInt8(ascii: ":") else { return }
            skipSpace()
            let start = index
            visit(key, &self)
            if index == start { guard skipValue() else { return } }
            skipSpace()
            guard next() == UInt8(ascii: ",") else { return }
        }
    }

    /// A string value with its escapes resolved, or nil when the value is not a (complete) string.
    mutating func string() -> String? {
        guard peek() == UInt8(ascii: "\"") else { return nil }
        index += 1
        var out = String.UnicodeScalarView()
        var run = index  // start of the bytes not yet copied to `out`
        func flush(upTo end: Int) {
            out.append(contentsOf: String(decoding: bytes[run..<end], as: UTF8.self).unicodeScalars)
        }
        while let byte = peek() {
            switch byte {
            case UInt8(ascii: "\""):
                flush(upTo: index)
                index += 1
                return String(out)
            case UInt8(ascii: "\\"):
                flush(upTo: index)
                index += 1
                guard let escaped = next() else { return nil }
                switch escaped {
                case UInt8(ascii: "n"): out.append("\n")
                case UInt8(ascii: "t"): out.append("\t")
                case UInt8(ascii: "r"): out.append("\r")
                case UInt8(ascii: "b"): out.append("\u{08}")
                case UInt8(ascii: "f"): out.append("\u{0C}")
                case UInt8(ascii: "u"):
                    guard var code = hex4() else { return nil }
                    if (0xD800..<0xDC00).contains(code), peek() == UInt8(ascii: "\\") {
                        let save = index
                        index += 1
                        if next() == UInt8(ascii: "u"), let low = hex4(), (0xDC00..<0xE000).contains(low) {
                            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                        } else {
                            index = save
                        }
                    }
                    out.append(Unicode.Scalar(code) ?? "\u{FFFD}")
                default: out.append(Unicode.Scalar(escaped))
                }
                run = index
            default:
                index += 1
            }
        }
        return nil
    }

    /// Four hex digits of a `\u` escape.
    private mutating func hex4() -> UInt32? {
        guard index + 4 <= bytes.count else { return nil }
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let digit = next().flatMap({ Character(Unicode.Scalar($0)).hexDigitValue }) else { return nil }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    /// A positive integer value (`256`, `256.0` and `2.56e2` count), or nil.
    mutating func positiveInteger() -> UInt32? {
        let start = index
        while let byte = peek(),
            byte == UInt8(ascii: "-") || byte == UInt8(ascii: "+") || byte == UInt8(ascii: ".")
                || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") || (0x30...0x39).contains(byte)
        {
            index += 1
        }
        guard index > start, let value = Double(String(decoding: bytes[start..<index], as: UTF8.self)),
            value >= 1, value.rounded() == value
        else { return nil }
        return UInt32(clamping: Int64(min(value, Double(UInt32.max))))
    }

    /// Skips one value of any kind; false on malformed input.
    private mutating func skipValue() -> Bool {
        guard let first = peek() else { return false }
        if first == UInt8(ascii: "\"") { return string() != nil }
        guard first == UInt8(ascii: "{") || first == UInt8(ascii: "[") else {
            while let byte = peek(), byte != UInt8(ascii: ","), byte != UInt8(ascii: "}") { index += 1 }
            return true
        }
        var depth = 0
        while let byte = peek() {
            switch byte {
            case UInt8(ascii: "\""):
                guard string() != nil else { return false }
                continue
            case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth -= 1
                if depth == 0 {
                    index += 1
                    return true
                }
            default: break
            }
            index += 1
        }
        return false
    }

    private mutating func skipSpace() {
        while let byte = peek(), byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { index += 1 }
    }

    private func peek() -> UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func next() -> UInt8? {
        defer { index += 1 }
        return peek()
    }
}
