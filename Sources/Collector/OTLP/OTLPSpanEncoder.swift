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

    /// `ExportTraceServiceRequest`: one `ResourceSpans` (field 1) per source, in order of first appearance.
    func request(for records: some Sequence<CallRecord>) -> [UInt8] {
        var traceIDs: [String: Data] = [:]
        var scratch = ProtobufWriter(capacity: 4_096)
        var batch = OTLPSpanBatch()
        for record in records {
            encode(record, into: &scratch, traceIDs: &traceIDs)
            batch.append(scratch, source: record.source, expected: 1)
        }
        var request = ProtobufWriter()
        self.request(for: [batch], into: &request)
        return request.finish()
    }

    /// One call's `Span`, written in `scratch` (emptied first; kept from call to call, so its room is made once).
    /// `traceIDs`: a session's calls share one trace, its id hashed once per batch of calls.
    func encode(_ record: CallRecord, into scratch: inout ProtobufWriter, traceIDs: inout [String: Data]) {
        scratch.removeAll()
        scratch.attributeField = 0
        write(record, into: &scratch, traceIDs: &traceIDs)
    }

    /// `ExportTraceServiceRequest` of batches encoded at hand-off, written in `request` (emptied first; the export
    /// loop keeps one writer, so a request's hundreds of KiB are not allocated anew each time): one `ResourceSpans`
    /// per source, in order of first appearance, its spans in the batches' order. Every size is known before a byte
    /// is written, so each source's spans are copied once, as they lie, straight into the request (not into their
    /// scope, their resource and then the request, as nesting writers would).
    func request(for batches: some Collection<OTLPSpanBatch>, into request: inout ProtobufWriter) {
        request.removeAll()
        let batches = Array(batches)
        // Each source's groups, in order; a batch usually holds one source, and consecutive batches the same one.
        var sources: [(source: String?, groups: [(batch: Int, group: Int)], size: Int)] = []
        var sourceIndex: [String?: Int] = [:]
        for (batchIndex, batch) in batches.enumerated() {
            for (groupIndex, group) in batch.groups.enumerated() {
                let index: Int
                if let known = sourceIndex[group.source] {
                    index = known
                } else {
                    index = sources.count
                    sourceIndex[group.source] = index
                    sources.append((group.source, [], 0))
                }
                sources[index].groups.append((batchIndex, groupIndex))
                sources[index].size += group.spans.count
            }
        }
        var scope = ProtobufWriter()  // InstrumentationScope
        scope.field(1, "agentledger")
        scope.field(2, mapper.version)
        let resources = sources.map { source in
            var resource = ProtobufWriter()
            resource.attributeField = 1  // Resource.attributes
            resource.string("service.name", mapper.serviceName)
            if let source = source.source {
                resource.string("host.name", source)
                resource.string("service.instance.id", source)
            }
            return resource
        }
        let scopeSpansSizes = sources.map { Self.fieldSize(scope.count) + $0.size }
        let resourceSpansSizes = zip(resources, scopeSpansSizes).map { resource, scopeSpans in
            Self.fieldSize(resource.count) + Self.fieldSize(scopeSpans)
        }
        request.reserve(resourceSpansSizes.reduce(0) { $0 + Self.fieldSize($1) })
        for (index, source) in sources.enumerated() {
            request.header(1, size: resourceSpansSizes[index])  // ExportTraceServiceRequest.resource_spans
            request.message(1, resources[index])  // ResourceSpans.resource
            request.header(2, size: scopeSpansSizes[index])  // ResourceSpans.scope_spans
            request.message(1, scope)  // ScopeSpans.scope
            for (batch, group) in source.groups { request.append(batches[batch].groups[group].spans) }  // ScopeSpans.spans
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

/// Spans encoded at hand-off (`OTLPExporter.enqueue`), grouped by the source whose `ResourceSpans` they go in: the
/// export queue holds bytes, not records. Each group's bytes are its spans as `ScopeSpans.spans` fields (key, length,
/// span) back to back, so a request copies them as they lie; one allocation per source of a committed batch, not one
/// per span (each span's own array, made on the committing thread and freed on the exporting one, cost more than
/// copying its bytes; docs/benchmarks.md, "OTLP export").
struct OTLPSpanBatch: OTLPExportUnit {
    struct Group {
        var source: String?
        var spans: ProtobufWriter
    }

    private(set) var groups: [Group] = []
    private(set) var spanCount = 0

    /// The room a new group makes at once: beyond it, a group grows as it fills. One span with a large prompt (content
    /// capture) must not reserve that size for every span expected after it.
    static let initialRoomLimit = 1 << 20

    /// The span written in `span`, after the others of its source. `expected`: about how many spans of this source
    /// are still to come, so that a new group makes its room once (up to `initialRoomLimit`).
    mutating func append(_ span: ProtobufWriter, source: String?, expected: Int) {
        let index: Int
        if let last = groups.indices.last, groups[last].source == source {
            index = last
        } else if let known = groups.firstIndex(where: { $0.source == source }) {
            index = known
        } else {
            index = groups.count
            let each = span.count + 8
            let expected = max(1, expected)
            let room = expected > Self.initialRoomLimit / each ? max(each, Self.initialRoomLimit) : each * expected
            groups.append(Group(source: source, spans: ProtobufWriter(capacity: room)))
        }
        groups[index].spans.message(2, span)  // ScopeSpans.spans
        spanCount += 1
    }
}
