import CLibDeflate
import CompressNIO
import Foundation
import NIOCore
import OTLPProto
import SwiftProtobuf

/// `ExportTraceServiceRequest` and its answer on the wire, as OTLP/HTTP sends them: protobuf, or JSON with trace
/// and span ids as hexadecimal (not protobuf JSON's base64) and enums as integers; bodies gzip-compressed or not.
package enum OTLPWire {
    /// Why a body could not be read; its description is the 400's reason.
    package struct Failure: Error, CustomStringConvertible {
        package var description: String
    }

    package static func encode(
        _ request: Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest,
        as encoding: OTLPExportConfiguration.Encoding
    ) throws -> [UInt8] {
        switch encoding {
        case .protobuf:
            return try request.serializedBytes()
        case .json:
            var options = JSONEncodingOptions()
            options.alwaysPrintEnumsAsInts = true
            let json: [UInt8] = try request.jsonUTF8Bytes(options: options)
            return try rewriteIDs(in: json, toHex: true)
        }
    }

    package static func decodeRequest(_ body: [UInt8], json: Bool) throws(Failure)
        -> Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest
    {
        do {
            if json {
                var options = JSONDecodingOptions()
                options.ignoreUnknownFields = true
                return try .init(jsonUTF8Bytes: try rewriteIDs(in: body, toHex: false), options: options)
            }
            return try .init(serializedBytes: body)
        } catch let failure as Failure {
            throw failure
        } catch {
            throw Failure(description: "not an OTLP ExportTraceServiceRequest (\(json ? "JSON" : "protobuf")): \(error)")
        }
    }

    package static func encodeResponse(
        _ response: Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceResponse, json: Bool
    ) -> [UInt8] {
        if json {
            return (try? response.jsonUTF8Bytes()) ?? Array("{}".utf8)
        }
        return (try? response.serializedBytes()) ?? []
    }

    /// The partial success an answer reports; nil when it reports none (or cannot be read: the spans were accepted).
    package static func partialSuccess(in body: [UInt8], json: Bool)
        -> Opentelemetry_Proto_Collector_Trace_V1_ExportTracePartialSuccess?
    {
        guard !body.isEmpty else { return nil }
        var options = JSONDecodingOptions()
        options.ignoreUnknownFields = true
        let response =
            json
            ? try? Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceResponse(jsonUTF8Bytes: body, options: options)
            : try? Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceResponse(serializedBytes: body)
        guard let response, response.hasPartialSuccess else { return nil }
        let partial = response.partialSuccess
        return partial.rejectedSpans == 0 && partial.errorMessage.isEmpty ? nil : partial
    }

    /// gzip at libdeflate's fastest level (Sources/CLibDeflate), kept from body to body: its tables (hundreds of KiB)
    /// are allocated once, not for each batch. One task at a time. On a batch of 512 typical spans (~760 bytes each) it
    /// takes 14,000 instructions a span for a 7.3× smaller body, where zlib's fastest level takes 27,000 for 7.0×:
    /// compression is the largest part of what export costs the collector per record (docs/benchmarks.md, "OTLP
    /// export").
    package final class GzipCompressor {
        private let compressor: OpaquePointer

        package init() throws(Failure) {
            guard let compressor = libdeflate_alloc_compressor(1) else {
                throw Failure(description: "gzip: no memory for the compressor")
            }
            self.compressor = compressor
        }

        deinit { libdeflate_free_compressor(compressor) }

        package func compress(_ bytes: UnsafeRawBufferPointer) throws(Failure) -> ByteBuffer {
            var body = ByteBuffer()
            try compress(bytes, into: &body)
            return body
        }

        /// The gzip of `bytes`, written after what `body` holds: a body kept from request to request is written
        /// in the room it already has.
        package func compress(_ bytes: UnsafeRawBufferPointer, into body: inout ByteBuffer) throws(Failure) {
            let bound = libdeflate_gzip_compress_bound(compressor, bytes.count)
            let written = body.writeWithUnsafeMutableBytes(minimumWritableBytes: bound) { output in
                libdeflate_gzip_compress(compressor, bytes.baseAddress, bytes.count, output.baseAddress, output.count)
            }
            // Within the bound libdeflate gives, compression cannot run out of room; 0 would mean it did.
            guard written > 0 else { throw Failure(description: "gzip: the body did not fit its bound") }
        }
    }

    /// A gzip body inflated to at most `maxSize` bytes; larger throws `tooLarge`.
    package static func gunzip(_ body: ByteBuffer, maxSize: Int) throws(Failure) -> [UInt8] {
        var body = body
        do {
            let plain = try body.decompress(with: .gzip(), maxSize: maxSize)
            return Array(plain.readableBytesView)
        } catch let error as CompressNIOError where error == .bufferOverflow {
            throw Failure(description: tooLarge)
        } catch {
            throw Failure(description: "body is not valid gzip: \(error)")
        }
    }

    package static let tooLarge = "decompressed body is larger than the limit"

    /// The id fields of spans and links, converted between protobuf JSON's base64 and OTLP/JSON's hexadecimal.
    private static let idKeys: Set<String> = ["traceId", "spanId", "parentSpanId"]

    private static func rewriteIDs(in json: [UInt8], toHex: Bool) throws -> [UInt8] {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(json), options: [.fragmentsAllowed])
        } catch {
            throw Failure(description: "body is not JSON: \(error.localizedDescription)")
        }
        let rewritten = try rewrite(object, toHex: toHex, depth: 0)
        return Array(try JSONSerialization.data(withJSONObject: rewritten, options: [.fragmentsAllowed]))
    }

    private static func rewrite(_ value: Any, toHex: Bool, depth: Int) throws -> Any {
        guard depth < 64 else { throw Failure(description: "JSON nested deeper than 64 levels") }
        if let array = value as? [Any] { return try array.map { try rewrite($0, toHex: toHex, depth: depth + 1) } }
        guard var object = value as? [String: Any] else { return value }
        for (key, member) in object {
            if idKeys.contains(key), let text = member as? String {
                if toHex {
                    object[key] = Data(base64Encoded: text).map(OTLPIdentifiers.hex) ?? text
                } else if !text.isEmpty {
                    guard let bytes = OTLPIdentifiers.bytes(hex: text) else {
                        throw Failure(description: "\(key) is not hexadecimal: \(text.prefix(40))")
                    }
                    object[key] = bytes.base64EncodedString()
                }
            } else if member is [Any] || member is [String: Any] {
                // Attribute values are not ids, whatever their key: only the span and link fields are rewritten.
                if key == "attributes" || key == "resource" || key == "scope" { continue }
                object[key] = try rewrite(member, toHex: toHex, depth: depth + 1)
            }
        }
        return object
    }
}
