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
        return request(for: records.map { span(for: $0, traceIDs: &traceIDs) })
    }

    /// One call's span. `traceIDs`: a session's calls share one trace, its id hashed once per batch of calls.
    func span(for record: CallRecord, traceIDs: inout [String: Data]) -> EncodedSpan {
        var span = ProtobufWriter()
        span.bytes.reserveCapacity(1_024)
        write(record, into: &span, traceIDs: &traceIDs)
        return EncodedSpan(source: record.source, bytes: span.bytes)
    }

    /// `ExportTraceServiceRequest` of spans already encoded: one `ResourceSpans` per source, in order of first
    /// appearance.
    func request(for spans: some Collection<EncodedSpan>) -> [UInt8] {
        var order: [String?] = []
        var spansBySource: [String?: ProtobufWriter] = [:]
        for span in spans {
            if spansBySource[span.source] == nil {
                order.append(span.source)
                var writer = ProtobufWriter()
                writer.bytes.reserveCapacity(spans.count * (span.bytes.count + 4))
                spansBySource[span.source] = writer
            }
            spansBySource[span.source]!.message(2, span.bytes)  // ScopeSpans.spans
        }
        var scope = ProtobufWriter()  // InstrumentationScope
        scope.field(1, "agentledger")
        scope.field(2, mapper.version)
        var request = ProtobufWriter()
        var resourceSpans = ProtobufWriter()
        var resource = ProtobufWriter()
        var scopeSpans = ProtobufWriter()
        for source in order {
            resource.bytes.removeAll(keepingCapacity: true)
            resource.attributeField = 1  // Resource.attributes
            resource.string("service.name", mapper.serviceName)
            if let source {
                resource.string("host.name", source)
                resource.string("service.instance.id", source)
            }
            scopeSpans.bytes.removeAll(keepingCapacity: true)
            scopeSpans.message(1, scope.bytes)  // ScopeSpans.scope
            scopeSpans.bytes.append(contentsOf: spansBySource[source]!.bytes)
            resourceSpans.bytes.removeAll(keepingCapacity: true)
            resourceSpans.message(1, resource.bytes)  // ResourceSpans.resource
            resourceSpans.message(2, scopeSpans.bytes)  // ResourceSpans.scope_spans
            request.message(1, resourceSpans.bytes)  // ExportTraceServiceRequest.resource_spans
        }
        return request.bytes
    }

    /// One `Span`'s fields, as `OTLPSpanMapper.span(for:)` sets them.
    private func write(_ record: CallRecord, into span: inout ProtobufWriter, traceIDs: inout [String: Data]) {
        if let session = record.sessionID {
            let traceID =
                traceIDs[session]
                ?? OTLPIdentifiers.traceID(sessionID: session, actionID: record.actionID)
            if traceIDs.count < 4_096 { traceIDs[session] = traceID }
            span.bytes(1, traceID)
        } else {
            span.bytes(1, OTLPIdentifiers.traceID(sessionID: nil, actionID: record.actionID))
        }
        span.bytes(2, OTLPIdentifiers.spanID(actionID: record.actionID))
        if let parent = record.parentActionID { span.bytes(4, OTLPIdentifiers.spanID(actionID: parent)) }
        if let model = record.modelID {
            span.key(5, .lengthDelimited)
            span.varint(UInt64(5 + model.utf8.count))  // "chat " and the model
            span.bytes.append(contentsOf: "chat ".utf8)
            span.bytes.append(contentsOf: model.utf8)
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
            span.message(11, event.bytes)  // Span.events
        }
        if !OTLPSpanMapper.isSuccess(record.statusCode) {
            var status = ProtobufWriter()
            status.field(2, OTLPSpanMapper.statusMessage(of: record))
            status.key(3, .varint)
            status.varint(2)  // STATUS_CODE_ERROR
            span.message(15, status.bytes)  // Span.status
        }
    }
}

/// Protobuf's wire format, the little of it the export request needs
/// (https://protobuf.dev/programming-guides/encoding/), and the attributes of `OTLPAttributeSink` as `KeyValue`s in
/// field `attributeField`.
struct ProtobufWriter: OTLPAttributeSink {
    enum WireType: UInt64 {
        case varint = 0
        case fixed64 = 1
        case lengthDelimited = 2
    }

    var bytes: [UInt8] = []
    /// The field number of the message's repeated `KeyValue` attributes.
    var attributeField: UInt64 = 0

    mutating func key(_ field: UInt64, _ type: WireType) { varint(field << 3 | type.rawValue) }

    mutating func varint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    static func varintSize(_ value: UInt64) -> Int {
        value == 0 ? 1 : (64 - value.leadingZeroBitCount + 6) / 7
    }

    mutating func littleEndian(_ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    /// A `fixed64` field; 0, its default, is not written (as swift-protobuf does not).
    mutating func fixed64(_ field: UInt64, _ value: UInt64) {
        guard value != 0 else { return }
        key(field, .fixed64)
        littleEndian(value)
    }

    /// A `string` field, written even when empty (a oneof's member must be).
    mutating func string(_ field: UInt64, _ value: String) {
        key(field, .lengthDelimited)
        varint(UInt64(value.utf8.count))
        bytes.append(contentsOf: value.utf8)
    }

    /// A plain `string` field: empty, its default, is not written.
    mutating func field(_ field: UInt64, _ value: String) {
        if !value.isEmpty { string(field, value) }
    }

    mutating func bytes(_ field: UInt64, _ value: Data) {
        key(field, .lengthDelimited)
        varint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    mutating func message(_ field: UInt64, _ encoded: [UInt8]) {
        key(field, .lengthDelimited)
        varint(UInt64(encoded.count))
        bytes.append(contentsOf: encoded)
    }

    // MARK: Attributes: KeyValue { key = 1; AnyValue value = 2 }, AnyValue's oneof always written

    /// The `KeyValue`'s key and length prefixes, for an `AnyValue` of `valueSize` bytes.
    private mutating func keyValue(_ key: String, valueSize: Int) {
        let keyCount = key.utf8.count
        let keyValueSize = 1 + Self.varintSize(UInt64(keyCount)) + keyCount + 1 + Self.varintSize(UInt64(valueSize)) + valueSize
        self.key(attributeField, .lengthDelimited)
        varint(UInt64(keyValueSize))
        string(1, key)
        self.key(2, .lengthDelimited)
        varint(UInt64(valueSize))
    }

    mutating func string(_ key: String, _ value: String) {
        let count = value.utf8.count
        keyValue(key, valueSize: 1 + Self.varintSize(UInt64(count)) + count)
        string(1, value)  // AnyValue.string_value
    }

    mutating func int(_ key: String, _ value: Int) {
        let encoded = UInt64(bitPattern: Int64(value))
        keyValue(key, valueSize: 1 + Self.varintSize(encoded))
        self.key(3, .varint)  // AnyValue.int_value
        varint(encoded)
    }

    mutating func double(_ key: String, _ value: Double) {
        keyValue(key, valueSize: 9)
        self.key(4, .fixed64)  // AnyValue.double_value
        littleEndian(value.bitPattern)
    }

    mutating func bool(_ key: String, _ value: Bool) {
        keyValue(key, valueSize: 2)
        self.key(2, .varint)  // AnyValue.bool_value
        bytes.append(value ? 1 : 0)
    }

    mutating func strings(_ key: String, _ values: [String]) {
        // ArrayValue { repeated AnyValue values = 1 }, each AnyValue a string_value.
        let elementSizes = values.map { 1 + Self.varintSize(UInt64($0.utf8.count)) + $0.utf8.count }
        let arraySize = elementSizes.reduce(0) { $0 + 1 + Self.varintSize(UInt64($1)) + $1 }
        keyValue(key, valueSize: 1 + Self.varintSize(UInt64(arraySize)) + arraySize)
        self.key(5, .lengthDelimited)  // AnyValue.array_value
        varint(UInt64(arraySize))
        for (value, size) in zip(values, elementSizes) {
            self.key(1, .lengthDelimited)
            varint(UInt64(size))
            string(1, value)
        }
    }
}
