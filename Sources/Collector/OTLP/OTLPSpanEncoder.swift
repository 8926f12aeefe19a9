import Foundation

/// The export request of `OTLPSpanMapper.request(for:)` written straight to protobuf bytes, without building
/// swift-protobuf messages: the same spans, attributes and resources (the mapper's `attributes(of:into:)` is the one
/// list of both), the bytes `request(for:).serializedBytes()` decodes to.
///
/// Why our own writer: swift-protobuf computes the size of every nested message again at each level above it
/// (request, resource spans, scope spans, span, attribute, value: six levels), and each attribute is two heap-allocated
/// messages. On the OTLP benchmark that made export cost the collector 75% more CPU per record, most of it in
/// serialization (Benchmarks/otlp.sh; docs/benchmarks.md). Here each span is written once (`ProtobufWriter`) and
/// copied once into its request; every size is computed before the bytes it counts are written.
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
