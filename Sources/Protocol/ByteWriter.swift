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

    package mutating func write(_ value: UInt16) {
        bytes.append(UInt8(truncatingIfNeeded: value >> 8))
        bytes.append(UInt8(truncatingIfNeeded: value))
    }

    package mutating func write(_ value: UInt32) {
        for shift in stride(from: 24, through: 0, by: -8) {
            bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift)))
        }
    }

    package mutating func write(_ value: UInt64) {
        for shift in stride(from: 56, through: 0, by: -8) {
            bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
        }
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
        bytes[offset] = UInt8(truncatingIfNeeded: value >> 24)
        bytes[offset + 1] = UInt8(truncatingIfNeeded: value >> 16)
        bytes[offset + 2] = UInt8(truncatingIfNeeded: value >> 8)
        bytes[offset + 3] = UInt8(truncatingIfNeeded: value)
    }
}
