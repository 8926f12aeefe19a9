/// Reads what `ByteWriter` wrote, bounds-checked: running past the end is a `ProtocolError`, never a trap.
package struct ByteReader {
    private let bytes: ArraySlice<UInt8>
    private var index: Int

    package init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        index = bytes.startIndex
    }

    package var remaining: Int { bytes.endIndex - index }
    package var isAtEnd: Bool { index == bytes.endIndex }

    private mutating func take(_ count: Int, _ what: @autoclosure () -> String) throws(ProtocolError) -> ArraySlice<UInt8> {
        guard count >= 0, count <= remaining else {
            throw .malformed("\(what()) needs \(count) bytes, \(remaining) left")
        }
        defer { index += count }
        return bytes[index..<(index + count)]
    }

    package mutating func readUInt8(_ what: @autoclosure () -> String = "u8") throws(ProtocolError) -> UInt8 {
        try take(1, what()).first!
    }

    package mutating func readUInt16(_ what: @autoclosure () -> String = "u16") throws(ProtocolError) -> UInt16 {
        try take(2, what()).reduce(0) { $0 << 8 | UInt16($1) }
    }

    package mutating func readUInt32(_ what: @autoclosure () -> String = "u32") throws(ProtocolError) -> UInt32 {
        try take(4, what()).reduce(0) { $0 << 8 | UInt32($1) }
    }

    package mutating func readUInt64(_ what: @autoclosure () -> String = "u64") throws(ProtocolError) -> UInt64 {
        try take(8, what()).reduce(0) { $0 << 8 | UInt64($1) }
    }

    package mutating func readInt64(_ what: @autoclosure () -> String = "i64") throws(ProtocolError) -> Int64 {
        Int64(bitPattern: try readUInt64(what()))
    }

    package mutating func readBool(_ what: @autoclosure () -> String = "bool") throws(ProtocolError) -> Bool {
        switch try readUInt8(what()) {
        case 0: return false
        case 1: return true
        case let other: throw .malformed("\(what()) is \(other), not 0 or 1")
        }
    }

    package mutating func readBytes(_ what: @autoclosure () -> String = "bytes") throws(ProtocolError) -> ArraySlice<UInt8> {
        let count = try readUInt32("length of \(what())")
        return try take(Int(count), what())
    }

    package mutating func readString(_ what: @autoclosure () -> String = "string") throws(ProtocolError) -> String {
        let raw = try readBytes(what())
        guard let string = String(utf8: raw) else {
            throw .malformed("\(what()) is not valid UTF-8")
        }
        return string
    }

    package mutating func readOptionalString(_ what: @autoclosure () -> String = "string") throws(ProtocolError) -> String? {
        let count = try readUInt32("length of \(what())")
        if count == UInt32.max { return nil }
        let raw = try take(Int(count), what())
        guard let string = String(utf8: raw) else {
            throw .malformed("\(what()) is not valid UTF-8")
        }
        return string
    }

    package mutating func readOptionalUInt32(_ what: @autoclosure () -> String = "u32") throws(ProtocolError) -> UInt32? {
        try readBool("presence of \(what())") ? try readUInt32(what()) : nil
    }

    /// Throws unless every byte was consumed: trailing bytes mean sender and receiver disagree.
    package func expectEnd(_ what: @autoclosure () -> String) throws(ProtocolError) {
        guard isAtEnd else { throw .malformed("\(remaining) unexpected trailing bytes in \(what())") }
    }
}

extension String {
    /// The text of UTF-8 bytes, or nil when they are not valid UTF-8. Header names and values and the ids of a record
    /// are nearly always ASCII, which needs no further check; `String(validating:as:)` is generic over the encoding
    /// and looks up type metadata at run time on every call, a cost paid for each string of each record.
    package init?(utf8 bytes: ArraySlice<UInt8>) {
        let string = bytes.withUnsafeBufferPointer { buffer -> String? in
            guard buffer.contains(where: { $0 >= 0x80 }) else { return String(decoding: buffer, as: UTF8.self) }
            return String(validating: buffer, as: UTF8.self)
        }
        guard let string else { return nil }
        self = string
    }
}
