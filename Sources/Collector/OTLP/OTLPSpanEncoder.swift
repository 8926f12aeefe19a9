import Foundation

/// The export request of `OTLPSpanMapper.request(for:)` written straight to protobuf bytes, without building
/// swift-protobuf messages: the same spans, attributes and resources (the mapper's `attributes(of:into:)` is the one
/// list of both), the bytes `request(for:).serializedBytes()` decodes to.
///
/// Why our own writer: swift-protobuf computes the size of every nested message again at each level above it
/// (request, resource spans, scope spans, span, attribute, value: six levels), and each attribute is two heap-allocated
/// messages. On the OTLP benchmark that made export cost the collector 75% more CPU per record, most of it in
/// serialization (Benchmarks/otlp.sh; docs/benchmarks.md). Here each span is written once into a reused buffer and
/// copied into its parents; an attribute's size is computed from its value before it is written.
struct OTLPSpanEncoder {
    let mapper: OTLPSpanMapper

    /// One call's `Span`, encoded as soon as the call is stored (`OTLPExporter.enqueue`), with the source whose
    /// `ResourceSpans` it goes in: the export queue then holds bytes, not records.
    struct EncodedSpan: Sendable {
        var source: String?
        var bytes: [UInt8]
    }

    /// `ExportTraceServiceRequest`: one `ResourceSpans` (field 1) per source, in order of first appearance.
    func request(for records: some Sequence<CallRecord>) -> [UInt8] {
        var traceIDs: [String: Data] = [:]
        var scratch = ProtobufWriter(capacity: 4_096)
        return request(for: records.map { span(for: $0, traceIDs: &traceIDs, scratch: &scratch) })
    }

    /// One call's span, written in `scratch` (kept from call to call: its room is made once) and copied out.
    /// `traceIDs`: a session's calls share one trace, its id hashed once per batch of calls.
    func span(for record: CallRecord, traceIDs: inout [String: Data], scratch: inout ProtobufWriter) -> EncodedSpan {
        scratch.removeAll()
        scratch.attributeField = 0
        write(record, into: &scratch, traceIDs: &traceIDs)
        return EncodedSpan(source: record.source, bytes: scratch.bytes)
    }

    /// `ExportTraceServiceRequest` of spans already encoded: one `ResourceSpans` per source, in order of first
    /// appearance. Every size is known before a byte is written, so the request is written once, each span copied
    /// into it once (not into its scope, its resource and then the request, as nesting writers would).
    func request(for spans: some Collection<EncodedSpan>) -> [UInt8] {
        var request = ProtobufWriter()
        self.request(for: spans, into: &request)
        return request.finish()
    }

    /// The same request, written in `request` (emptied first): the export loop keeps one writer, so a batch's
    /// hundreds of KiB are not allocated anew each time.
    func request(for spans: some Collection<EncodedSpan>, into request: inout ProtobufWriter) {
        request.removeAll()
        // The spans of each source, in order; consecutive spans of one source (the usual case) look up nothing.
        var groups: [(source: String?, spans: [Int], size: Int)] = []
        var groupOf: [String?: Int] = [:]
        var current = -1
        for (index, span) in zip(0..., spans) {
            if current < 0 || groups[current].source != span.source {
                if let known = groupOf[span.source] {
                    current = known
                } else {
                    current = groups.count
                    groupOf[span.source] = current
                    groups.append((span.source, [], 0))
                }
            }
            groups[current].spans.append(index)
            groups[current].size += Self.fieldSize(span.bytes.count)  // ScopeSpans.spans
        }
        var scope = ProtobufWriter()  // InstrumentationScope
        scope.field(1, "agentledger")
        scope.field(2, mapper.version)
        let resources = groups.map { group in
            var resource = ProtobufWriter()
            resource.attributeField = 1  // Resource.attributes
            resource.string("service.name", mapper.serviceName)
            if let source = group.source {
                resource.string("host.name", source)
                resource.string("service.instance.id", source)
            }
            return resource
        }
        let scopeSpansSizes = groups.map { Self.fieldSize(scope.count) + $0.size }
        let resourceSpansSizes = zip(resources, scopeSpansSizes).map { resource, scopeSpans in
            Self.fieldSize(resource.count) + Self.fieldSize(scopeSpans)
        }
        request.reserve(resourceSpansSizes.reduce(0) { $0 + Self.fieldSize($1) })
        let encoded = Array(spans)
        for (index, group) in groups.enumerated() {
            request.header(1, size: resourceSpansSizes[index])  // ExportTraceServiceRequest.resource_spans
            request.message(1, resources[index])  // ResourceSpans.resource
            request.header(2, size: scopeSpansSizes[index])  // ResourceSpans.scope_spans
            request.message(1, scope)  // ScopeSpans.scope
            for span in group.spans { request.message(2, encoded[span].bytes) }  // ScopeSpans.spans
        }
    }

    /// The bytes of a length-delimited field of fields 1 to 15 holding `size` bytes.
    private static func fieldSize(_ size: Int) -> Int { 1 + ProtobufWriter.varintSize(UInt64(size)) + size }

    /// One `Span`'s fields, as `OTLPSpanMapper.span(for:)` sets them.
    private func write(_ record: CallRecord, into span: inout ProtobufWriter, traceIDs: inout [String: Data]) {
        if let session = record.sessionID {
            if let known = traceIDs[session] {
                span.bytes(1, known)
            } else {
                let traceID = OTLPIdentifiers.traceID(sessionID: session, actionID: record.actionID)
                if traceIDs.count < 4_096 { traceIDs[session] = traceID }
                span.bytes(1, traceID)
            }
        } else {
            span.bytes(1, OTLPIdentifiers.traceID(sessionID: nil, actionID: record.actionID))
        }
        OTLPIdentifiers.withSpanID(actionID: record.actionID) { span.bytes(2, $0) }
        if let parent = record.parentActionID { OTLPIdentifiers.withSpanID(actionID: parent) { span.bytes(4, $0) } }
        if let model = record.modelID {
            span.field(5, "chat ", model)
        } else {
            span.field(5, "chat")
        }
        span.key(6, .varint)
        span.varint(3)  // SPAN_KIND_CLIENT
        let start = OTLPSpanMapper.nanos(micros: record.timestampMicros)
        span.fixed64(7, start)
        span.fixed64(8, OTLPSpanMapper.adding(milliseconds: record.latencyMS, to: start))
        span.attributeField = 9  // Span.attributes
        mapper.attributes(of: record, into: &span)
        if let ttft = record.ttftMS {
            var event = ProtobufWriter()
            event.fixed64(1, OTLPSpanMapper.adding(milliseconds: ttft, to: start))
            event.field(2, OTLPSpanMapper.firstTokenEvent)
            event.attributeField = 3  // Event.attributes
            event.double("agentledger.ttft_ms", ttft)
            span.message(11, event)  // Span.events
        }
        if !OTLPSpanMapper.isSuccess(record.statusCode) {
            var status = ProtobufWriter()
            status.field(2, OTLPSpanMapper.statusMessage(of: record))
            status.key(3, .varint)
            status.varint(2)  // STATUS_CODE_ERROR
            span.message(15, status)  // Span.status
        }
    }
}

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

    mutating func message(_ field: UInt64, _ encoded: [UInt8]) {
        write(atMost: 2 * Self.varintLimit + encoded.count) { cursor in
            cursor.key(field, .lengthDelimited)
            cursor.varint(UInt64(encoded.count))
            encoded.withUnsafeBytes { cursor.copy($0) }
        }
    }

    /// Another writer's bytes as field `field`.
    mutating func message(_ field: UInt64, _ other: ProtobufWriter) {
        write(atMost: 2 * Self.varintLimit + other.count) { cursor in
            cursor.key(field, .lengthDelimited)
            cursor.varint(UInt64(other.count))
            other.storage.withUnsafeBytes { cursor.copy(UnsafeRawBufferPointer(rebasing: $0[..<other.count])) }
        }
    }

    /// Bytes as they are.
    mutating func append(_ bytes: [UInt8]) {
        write(atMost: bytes.count) { cursor in bytes.withUnsafeBytes { cursor.copy($0) } }
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
