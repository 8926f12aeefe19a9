import CompressNIO
import LedgerProtocol
import NIOCore
import Testing

@testable import Collector

@Suite struct ContentDecodingTests {
    let json = #"{"id":"chatcmpl-1","choices":[{"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}]}"#

    func call(body: [UInt8], encoding: String?, truncated: Bool = false) -> CapturedCall {
        var call = CapturedCall(actionID: "a", arrivedAtMicros: 0, method: "POST", path: "/v1/chat/completions", source: "s")
        call.statusCode = 200
        call.responseHeaders = [HeaderField("Content-Type", "application/json")]
        if let encoding { call.responseHeaders.append(HeaderField("Content-Encoding", encoding)) }
        call.responseBody = body
        call.responseBodyTruncated = truncated
        return call
    }

    func compressed(_ algorithm: CompressionAlgorithm) throws -> [UInt8] {
        var buffer = ByteBuffer(string: json)
        return Array(try buffer.compress(with: algorithm).readableBytesView)
    }

    @Test(arguments: ["gzip", "deflate"])
    func compressedBodiesAreDecoded(encoding: String) throws {
        let body = try compressed(encoding == "gzip" ? .gzip() : .zlib())
        let decoded = ContentDecoding.decoded(call(body: body, encoding: encoding))
        #expect(decoded.responseBody == Array(json.utf8))
        #expect(decoded.responseHeader("content-encoding") == nil)
    }

    @Test func plainCorruptTruncatedAndUnknownBodiesStayAsTheyAre() throws {
        let plain = call(body: Array(json.utf8), encoding: nil)
        #expect(ContentDecoding.decoded(plain) == plain)
        let corrupt = call(body: [1, 2, 3, 4], encoding: "gzip")
        #expect(ContentDecoding.decoded(corrupt) == corrupt)
        let truncated = call(body: try compressed(.gzip()), encoding: "gzip", truncated: true)
        #expect(ContentDecoding.decoded(truncated) == truncated)
        let brotli = call(body: [9, 9], encoding: "br")
        #expect(ContentDecoding.decoded(brotli) == brotli)
    }
}
