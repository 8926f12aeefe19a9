import Foundation

/// Protobuf's wire format, the little of it the export request needs
/// (https://protobuf.dev/programming-guides/encoding/), and the attributes of `OTLPAttributeSink` as `KeyValue`s in
/// field `attributeField`.
///
/// Each write makes room for its largest size once, then stores its bytes through a pointer. Appending to an array
/// byte by byte checks its uniqueness and capacity at every byte: that made one attribute cost 600 to 850
/// instructions, half of what encoding a span cost (callgrind; docs/benchmarks.md, "OTLP export").
struct ProtobufWriter: OTLPAttributeSink {
    enum WireType: UInt64 {
        case varint = 0
        case fixed64 = 1
        case lengthDelimited = 2
    }

    /// The bytes written are `storage[..<count]`; the rest is room.
    private var storage: [UInt8]
    private(set) var count = 0
    /// The field number of the message's repeated `KeyValue` attributes.
    var attributeField: UInt64 = 0

    init(capacity: Int = 64) {
        storage = [UInt8](repeating: 0, count: max(16, capacity))
    }

    /// The bytes it holds room for, written or not.
    var capacity: Int { storage.count }

    /// What was written, in an array of its own.
    var bytes: [UInt8] { Array(storage[..<count]) }

    /// What was written, without a copy: the writer is done.
    consuming func finish() -> [UInt8] {
        storage.removeLast(storage.count - count)
        return storage
    }

    /// The key and length of a length-delimited field whose `size` bytes are written next.
    mutating func header(_ field: UInt64, size: Int) {
        write(atMost: 2 * Self.varintLimit) { cursor in
            cursor.key(field, .lengthDelimited)
            cursor.varint(UInt64(size))
        }
    }

    /// Forgets what was written, keeping the room.
    mutating func removeAll() { count = 0 }

    /// Makes room for `size` more bytes now, rather than as they come.
    mutating func reserve(_ size: Int) {
        if storage.count - count < size { storage.append(contentsOf: repeatElement(0, count: size - (storage.count - count))) }
    }

    /// What was written, where it lies.
    func withBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try storage.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[..<count])) }
    }

    /// The most bytes a varint takes.
    private static let varintLimit = 10

    /// Makes room for `size` bytes at the end, then lets `body` write at most that many there.
    private mutating func write(atMost size: Int, _ body: (inout Cursor) -> Void) {
        if storage.count - count < size {
            storage.append(contentsOf: repeatElement(0, count: max(size, storage.count)))
        }
        let start = count
        count += storage.withUnsafeMutableBufferPointer { buffer in
            var cursor = Cursor(pointer: buffer.baseAddress! + start)
            body(&cursor)
            return cursor.pointer - (buffer.baseAddress! + start)
        }
    }

    /// Where the next byte goes, within room already made.
    private struct Cursor {
        var pointer: UnsafeMutablePointer<UInt8>

        mutating func byte(_ value: UInt8) {
            pointer.pointee = value
            pointer += 1
        }

        mutating func varint(_ value: UInt64) {
            var value = value
            while value >= 0x80 {
                byte(UInt8(truncatingIfNeeded: value) | 0x80)
                value >>= 7
            }
            byte(UInt8(value))
        }

        mutating func key(_ field: UInt64, _ type: WireType) { varint(field << 3 | type.rawValue) }

        mutating func littleEndian(_ value: UInt64) {
            UnsafeMutableRawPointer(pointer).storeBytes(of: value.littleEndian, as: UInt64.self)
            pointer += 8
        }

        mutating func copy(_ bytes: UnsafeRawBufferPointer) {
            guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
            UnsafeMutableRawPointer(pointer).copyMemory(from: base, byteCount: bytes.count)
            pointer += bytes.count
        }

        mutating func copy(_ text: String) {
            let copied: Void? = text.utf8.withContiguousStorageIfAvailable { copy(UnsafeRawBufferPointer($0)) }
            if copied == nil { for unit in text.utf8 { byte(unit) } }
        }

        /// A length-delimited field: key, length, bytes.
        mutating func string(_ field: UInt64, _ value: String, count: Int) {
            key(field, .lengthDelimited)
            varint(UInt64(count))
            copy(value)
        }
    }

    mutating func key(_ field: UInt64, _ type: WireType) {
        write(atMost: Self.varintLimit) { $0.key(field, type) }
    }

    mutating func varint(_ value: UInt64) {
        write(atMost: Self.varintLimit) { $0.varint(value) }
    }

    static func varintSize(_ value: UInt64) -> Int {
        value == 0 ? 1 : (64 - value.leadingZeroBitCount + 6) / 7
    }

    /// A `fixed64` field; 0, its default, is not written (as swift-protobuf does not).
    mutating func fixed64(_ field: UInt64, _ value: UInt64) {
        guard value != 0 else { return }
        write(atMost: Self.varintLimit + 8) { cursor in
            cursor.key(field, .fixed64)
            cursor.littleEndian(value)
        }
    }

    /// A `string` field, written even when empty (a oneof's member must be).
    mutating func string(_ field: UInt64, _ value: String) {
        let count = value.utf8.count
        write(atMost: 2 * Self.varintLimit + count) { $0.string(field, value, count: count) }
    }

    /// A plain `string` field: empty, its default, is not written.
    mutating func field(_ field: UInt64, _ value: String) {
        if !value.isEmpty { string(field, value) }
    }

    /// A `string` field of two parts, written as one.
    mutating func field(_ field: UInt64, _ first: String, _ second: String) {
        let firstCount = first.utf8.count
        let count = firstCount + second.utf8.count
        write(atMost: 2 * Self.varintLimit + count) { cursor in
            cursor.string(field, first, count: count)
            cursor.copy(second)
        }
    }

    mutating func bytes(_ field: UInt64, _ value: Data) {
        value.withUnsafeBytes { bytes(field, $0) }
    }

    mutating func bytes(_ field: UInt64, _ value: UnsafeRawBufferPointer) {
        write(atMost: 2 * Self.varintLimit + value.count) { cursor in
            cursor.key(field, .lengthDelimited)
            cursor.varint(UInt64(value.count))
            cursor.copy(value)
        }
    }

    /// Another writer's bytes as field `field`.
    mutating func message(_ field: UInt64, _ other: ProtobufWriter) {
        other.withBytes { bytes(field, $0) }
    }

    /// Bytes as they are.
    mutating func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    /// Another writer's bytes as they are.
    mutating func append(_ other: ProtobufWriter) {
        other.withBytes { append($0) }
    }

    private mutating func append(_ bytes: UnsafeRawBufferPointer) {
        write(atMost: bytes.count) { $0.copy(bytes) }
    }

    // MARK: Attributes: KeyValue { key = 1; AnyValue value = 2 }, AnyValue's oneof always written

    /// The most bytes of an attribute besides its key and its value's own bytes.
    private static let attributeOverhead = 8 * varintLimit

    /// Writes one attribute whose `AnyValue` takes `valueSize` bytes, written by `value`.
    private mutating func attribute(
        _ key: String, valueSize: Int, atMost valueBytes: Int, _ value: (inout Cursor) -> Void
    ) {
        let keyCount = key.utf8.count
        let keyValueSize =
            1 + Self.varintSize(UInt64(keyCount)) + keyCount + 1 + Self.varintSize(UInt64(valueSize)) + valueSize
        let field = attributeField
        write(atMost: keyCount + valueBytes + Self.attributeOverhead) { cursor in
            cursor.key(field, .lengthDelimited)
            cursor.varint(UInt64(keyValueSize))
            cursor.string(1, key, count: keyCount)
            cursor.key(2, .lengthDelimited)
            cursor.varint(UInt64(valueSize))
            value(&cursor)
        }
    }

    mutating func string(_ key: String, _ value: String) {
        let count = value.utf8.count
        attribute(key, valueSize: 1 + Self.varintSize(UInt64(count)) + count, atMost: count) {
            $0.string(1, value, count: count)  // AnyValue.string_value
        }
    }

    mutating func int(_ key: String, _ value: Int) {
        let encoded = UInt64(bitPattern: Int64(value))
        attribute(key, valueSize: 1 + Self.varintSize(encoded), atMost: 0) { cursor in
            cursor.key(3, .varint)  // AnyValue.int_value
            cursor.varint(encoded)
        }
    }

    mutating func double(_ key: String, _ value: Double) {
        attribute(key, valueSize: 9, atMost: 0) { cursor in
            cursor.key(4, .fixed64)  // AnyValue.double_value
            cursor.littleEndian(value.bitPattern)
        }
    }

    mutating func bool(_ key: String, _ value: Bool) {
        attribute(key, valueSize: 2, atMost: 0) { cursor in
            cursor.key(2, .varint)  // AnyValue.bool_value
            cursor.byte(value ? 1 : 0)
        }
    }

    mutating func strings(_ key: String, _ values: [String]) {
        // ArrayValue { repeated AnyValue values = 1 }, each AnyValue a string_value. Sizes are summed in one pass and
        // written in a second, with no array of them (a call's finish reasons are usually one).
        var arraySize = 0
        for value in values {
            let element = Self.stringValueSize(value.utf8.count)
            arraySize += 1 + Self.varintSize(UInt64(element)) + element
        }
        let valueSize = 1 + Self.varintSize(UInt64(arraySize)) + arraySize
        attribute(key, valueSize: valueSize, atMost: valueSize) { cursor in
            cursor.key(5, .lengthDelimited)  // AnyValue.array_value
            cursor.varint(UInt64(arraySize))
            for value in values {
                let count = value.utf8.count
                cursor.key(1, .lengthDelimited)
                cursor.varint(UInt64(Self.stringValueSize(count)))
                cursor.string(1, value, count: count)
            }
        }
    }

    /// The size of an `AnyValue` holding a string of `count` bytes.
    private static func stringValueSize(_ count: Int) -> Int { 1 + varintSize(UInt64(count)) + count }
}
