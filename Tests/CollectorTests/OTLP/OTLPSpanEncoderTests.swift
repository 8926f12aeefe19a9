import Foundation
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

    /// The export loop writes every batch in one kept writer: a batch after a larger one carries nothing of it.
    @Test func aKeptWriterHoldsOnlyTheLastBatch() throws {
        let encoder = OTLPSpanEncoder(mapper: OTLPSpanMapperTests.mapper)
        var traceIDs: [String: Data] = [:]
        var scratch = ProtobufWriter()
        let spans = Self.calls().map { encoder.span(for: $0, traceIDs: &traceIDs, scratch: &scratch) }
        var kept = ProtobufWriter()
        encoder.request(for: spans, into: &kept)
        encoder.request(for: spans.prefix(2), into: &kept)
        #expect(kept.bytes == encoder.request(for: Array(spans.prefix(2))))
        let gzip = try OTLPWire.GzipCompressor()
        let first = try kept.withBytes { try gzip.compress($0) }
        let second = try kept.withBytes { try gzip.compress($0) }
        #expect(try OTLPWire.gunzip(first, maxSize: 1 << 20) == kept.bytes)
        #expect(first == second, "a kept compressor starts each body afresh")
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
