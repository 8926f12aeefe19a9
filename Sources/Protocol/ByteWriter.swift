/// Appends big-endian integers, strings and byte strings to a byte array.
package struct ByteWriter: Sendable {
    package private(set) var bytes: [UInt8]

    package init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    package mutating func write(_ value: UInt8) { bytes.append(value) }

    /// Empties the writer, keeping its storage for the next use.
    package mutating func clear() { bytes.removeAll(keepingCapacity: true) }

    package mutating func write(_ value: UInt16) { appendBigEndian(value) }

    package mutating func write(_ value: UInt32) { appendBigEndian(value) }

    package mutating func write(_ value: UInt64) { appendBigEndian(value) }

    /// One append of the integer's bytes, not one per byte.
    private mutating func appendBigEndian(_ value: some FixedWidthInteger) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }

    package mutating func write(_ value: Int64) { write(UInt64(bitPattern: value)) }

    package mutating func write(_ value: Bool) { write(value ? UInt8(1) : UInt8(0)) }

    /// A byte string: u32 length, then the bytes.
    package mutating func write<Bytes: Collection<UInt8>>(bytes value: Bytes) {
        write(UInt32(value.count))
        bytes.append(contentsOf: value)
    }

    /// A string: u32 length of its UTF-8 bytes, then the bytes.
    package mutating func write(_ value: String) { write(bytes: value.utf8) }

    /// An optional string: as a string, with length 0xFFFFFFFF standing for absent.
    package mutating func write(optional value: String?) {
        if let value { write(value) } else { write(UInt32.max) }
    }

    /// An optional u32: a presence byte (0 or 1), then the value when present.
    package mutating func write(optional value: UInt32?) {
        write(value != nil)
        if let value { write(value) }
    }

    /// Overwrites four bytes at `offset` with `value`, big-endian (for lengths known only later).
    package mutating func patch(_ value: UInt32, at offset: Int) {
        withUnsafeBytes(of: value.bigEndian) { value in
            bytes.withUnsafeMutableBytes { bytes in
                UnsafeMutableRawBufferPointer(rebasing: bytes[offset..<offset + 4]).copyMemory(from: value)
            }
        }
    }
}
