import Foundation
import NIOCore
import OTLPProto
import SwiftProtobuf
import Testing

@testable import Collector

/// The protobuf the exporter sends, written without swift-protobuf's messages, is exactly the mapper's request: the
/// bytes decode to the same message, for every shape of call.
@Suite struct OTLPSpanEncoderTests {
    static func calls() -> [CallRecord] {
        var full = OTLPSpanMapperTests.record("0193a1b2-0000-7000-8000-000000000001")
        full.ttftMS = 42.5
        full.parentActionID = "0193a1b2-0000-7000-8000-000000000000"
        full.handoffFrom = "triage"
        full.handoffTo = "writer"
        var failed = OTLPSpanMapperTests.record("0193a1b2-0000-7000-8000-000000000002")
        failed.statusCode = 529
        failed.errorDetail = "overloaded"
        failed.source = "pod-8"
        var bare = CallRecord(actionID: "bare", timestampMicros: -5)
        bare.outcome = "refused"
        bare.blocked = true
        var unicode = OTLPSpanMapperTests.record("0193a1b2-0000-7000-8000-000000000003")
        unicode.modelID = "modèle-ünïcode-" + String(repeating: "x", count: 200)
        unicode.agentName = "агент 🚀"
        unicode.tokensIn = Int(Int32.max) * 4
        unicode.tokensOut = 0
        unicode.costUSD = 0
        unicode.temperature = -0.0
        unicode.latencyMS = .infinity
        unicode.source = nil
        // Fields longer than the writer's first room (1 KiB) and lengths that take several varint bytes.
        var long = OTLPSpanMapperTests.record("0193a1b2-0000-7000-8000-000000000005")
        long.agentName = String(repeating: "a", count: 20_000)
        long.sessionID = String(repeating: "s", count: 300)
        long.content = String(repeating: "ü", count: 40_000)
        return [
            full, failed, bare, unicode, OTLPSpanMapperTests.record("0193a1b2-0000-7000-8000-000000000004"), long,
        ]
    }

    @Test(arguments: [false, true]) func theBytesDecodeToTheMappersRequest(captureContent: Bool) throws {
        let mapper = OTLPSpanMapper(serviceName: "ledger-test", captureContent: captureContent, version: "9.9.9")
        let records = Self.calls()
        let expected = mapper.request(for: records)
        let bytes = OTLPSpanEncoder(mapper: mapper).request(for: records)
        let decoded = try Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest(serializedBytes: bytes)
        #expect(decoded == expected)
        #expect(decoded.resourceSpans.count == 3, "pod-7, pod-8 and no source")
        #expect(decoded.resourceSpans.flatMap { $0.scopeSpans.flatMap(\.spans) }.count == records.count)
        // Byte for byte swift-protobuf's own encoding of that message: same fields, same order, nothing extra.
        #expect(bytes == (try expected.serializedBytes() as [UInt8]))
    }

    /// Spans encoded at hand-off in several batches, with their sources interleaved, make the request the same calls
    /// make at once: one resource per source, in order of first appearance, each source's spans in order.
    @Test func batchesMergeIntoOneRequest() throws {
        let mapper = OTLPSpanMapperTests.mapper
        let encoder = OTLPSpanEncoder(mapper: mapper)
        let records = Self.calls() + Self.calls().reversed()
        var traceIDs: [String: Data] = [:]
        var scratch = ProtobufWriter()
        var batches: [OTLPSpanBatch] = []
        for (index, record) in records.enumerated() {
            if index % 4 == 0 { batches.append(OTLPSpanBatch()) }
            encoder.encode(record, into: &scratch, traceIDs: &traceIDs)
            batches[batches.count - 1].append(scratch, source: record.source, expected: 4)
        }
        #expect(batches.map(\.spanCount) == [4, 4, 4])
        var request = ProtobufWriter()
        encoder.request(for: batches, into: &request)
        #expect(request.bytes == encoder.request(for: records))
        let decoded = try Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest(serializedBytes: request.bytes)
        #expect(decoded == mapper.request(for: records))
    }

    /// The export loop writes every batch in one kept writer and one kept body: a batch after a larger one carries
    /// nothing of it.
    @Test func aKeptWriterHoldsOnlyTheLastBatch() throws {
        let encoder = OTLPSpanEncoder(mapper: OTLPSpanMapperTests.mapper)
        var traceIDs: [String: Data] = [:]
        var scratch = ProtobufWriter()
        let batches = Self.calls().map { record in
            var batch = OTLPSpanBatch()
            encoder.encode(record, into: &scratch, traceIDs: &traceIDs)
            batch.append(scratch, source: record.source, expected: 1)
            return batch
        }
        var kept = ProtobufWriter()
        encoder.request(for: batches, into: &kept)
        encoder.request(for: batches.prefix(2), into: &kept)
        #expect(kept.bytes == encoder.request(for: Self.calls().prefix(2)))
        let gzip = try OTLPWire.GzipCompressor()
        var body = ByteBuffer()
        try encoder.request(for: Self.calls()).withUnsafeBytes { try gzip.compress($0, into: &body) }
        body.clear()
        try kept.withBytes { try gzip.compress($0, into: &body) }
        let second = try kept.withBytes { try gzip.compress($0) }
        #expect(try OTLPWire.gunzip(body, maxSize: 1 << 20) == kept.bytes)
        #expect(body == second, "a kept compressor and a kept body start each request afresh")
    }

    /// A batch's group makes room for the spans expected after its first, but one span with a large prompt does not
    /// reserve its size for each of them.
    @Test func aGroupReservesBoundedRoom() {
        var small = ProtobufWriter()
        small.string(1, String(repeating: "s", count: 100))
        var batch = OTLPSpanBatch()
        batch.append(small, source: "pod-1", expected: 4)
        #expect(batch.groups[0].spans.capacity >= 4 * small.count)
        #expect(batch.groups[0].spans.capacity < 4 * (small.count + 16))
        var large = ProtobufWriter()
        large.string(1, String(repeating: "l", count: 100_000))
        batch.append(large, source: "pod-2", expected: 512)
        #expect(batch.groups[1].spans.capacity == OTLPSpanBatch.initialRoomLimit)
        batch.append(large, source: "pod-2", expected: 511)
        #expect(batch.groups.map(\.spans.count) == [small.count + 2, 2 * (large.count + 4)])
        #expect(batch.spanCount == 3)
    }

    @Test func noCallsIsAnEmptyRequest() throws {
        let mapper = OTLPSpanMapperTests.mapper
        let bytes = OTLPSpanEncoder(mapper: mapper).request(for: [CallRecord]())
        #expect(bytes.isEmpty)
        #expect(try Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest(serializedBytes: bytes) == .init())
    }

    @Test func varintSizesMatchTheEncoding() {
        for value: UInt64 in [0, 1, 127, 128, 16_383, 16_384, 1 << 35, .max] {
            var writer = ProtobufWriter()
            writer.varint(value)
            #expect(writer.bytes.count == ProtobufWriter.varintSize(value), "\(value)")
        }
    }
}
