import Foundation
import NIOCore
import OTLPProto
import Testing

@testable import Collector

/// OTLP/HTTP bodies: protobuf, JSON with hexadecimal ids, gzip (docs/reference.md, "OTLP ingest").
@Suite struct OTLPWireTests {
    static var request: Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest {
        var record = OTLPSpanMapperTests.record()
        record.parentActionID = "parent"
        return OTLPSpanMapperTests.mapper.request(for: [record])
    }

    @Test func protobufRoundTrips() throws {
        let bytes = try OTLPWire.encode(Self.request, as: .protobuf)
        #expect(try OTLPWire.decodeRequest(bytes, json: false) == Self.request)
    }

    @Test func jsonWritesIdsAsHexAndEnumsAsIntegers() throws {
        let bytes = try OTLPWire.encode(Self.request, as: .json)
        let text = String(decoding: bytes, as: UTF8.self)
        let span = Self.request.resourceSpans[0].scopeSpans[0].spans[0]
        #expect(text.contains(#""traceId":"\#(OTLPIdentifiers.hex(span.traceID))""#))
        #expect(text.contains(#""spanId":"\#(OTLPIdentifiers.hex(span.spanID))""#))
        #expect(text.contains(#""parentSpanId":"\#(OTLPIdentifiers.hex(span.parentSpanID))""#))
        #expect(text.contains(#""kind":3"#))
        #expect(try OTLPWire.decodeRequest(bytes, json: true) == Self.request)
    }

    static func gzip(_ bytes: [UInt8]) throws -> ByteBuffer {
        let compressor = try OTLPWire.GzipCompressor()
        return try bytes.withUnsafeBytes { try compressor.compress($0) }
    }

    @Test func gzipRoundTripsWithinTheLimit() throws {
        let plain = try OTLPWire.encode(Self.request, as: .protobuf)
        let compressed = try Self.gzip(plain)
        #expect(try OTLPWire.gunzip(compressed, maxSize: 1 << 20) == plain)
        #expect(try OTLPWire.gunzip(Self.gzip([]), maxSize: 10) == [])
        var generator = SystemRandomNumberGenerator()
        let noise = (0..<200_000).map { _ in UInt8.random(in: 0...255, using: &generator) }  // grows a little
        #expect(try OTLPWire.gunzip(Self.gzip(noise), maxSize: 1 << 20) == noise)
        let bomb = try Self.gzip([UInt8](repeating: 0, count: 1 << 20))
        #expect(throws: OTLPWire.Failure.self) { try OTLPWire.gunzip(bomb, maxSize: 1000) }
        #expect(throws: OTLPWire.Failure.self) { try OTLPWire.gunzip(ByteBuffer(string: "not gzip"), maxSize: 1000) }
    }

    @Test func badBodiesSayWhy() {
        #expect(throws: OTLPWire.Failure.self) { try OTLPWire.decodeRequest(Array("{nope".utf8), json: true) }
        #expect(throws: OTLPWire.Failure.self) {
            try OTLPWire.decodeRequest(
                Array(#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"xyz"}]}]}]}"#.utf8), json: true)
        }
        #expect(throws: OTLPWire.Failure.self) { try OTLPWire.decodeRequest([0xFF, 0xFF, 0xFF], json: false) }
    }

    @Test func partialSuccessIsRead() throws {
        var answer = Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceResponse()
        #expect(OTLPWire.partialSuccess(in: OTLPWire.encodeResponse(answer, json: false), json: false) == nil)
        answer.partialSuccess.rejectedSpans = 3
        answer.partialSuccess.errorMessage = "too old"
        let partial = OTLPWire.partialSuccess(in: OTLPWire.encodeResponse(answer, json: true), json: true)
        #expect(partial?.rejectedSpans == 3 && partial?.errorMessage == "too old")
    }

    @Test func headersParseAsTheSDKsReadThem() {
        let parsed = OTLPExportConfiguration.parseHeaders(" x-tenant = acme , authorization=Bearer%20abc ,")
        #expect(parsed.bad == nil)
        #expect(parsed.headers.map(\.name) == ["x-tenant", "authorization"])
        #expect(parsed.headers.map(\.value) == ["acme", "Bearer abc"])
        #expect(OTLPExportConfiguration.parseHeaders("novalue").bad == "novalue")
        #expect(OTLPExportConfiguration.parseHeaders("bad name=1").bad == "bad name")
    }
}
