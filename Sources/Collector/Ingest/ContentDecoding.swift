import CompressNIO
import LedgerProtocol
import NIOCore

/// The sidecar ships response bodies exactly as the agent received them, compressed or not; adapters
/// read plain JSON. This undoes `gzip` and `deflate` (bounded), so compressed answers are priced too.
package enum ContentDecoding {
    /// Largest decoded body accepted: a bomb stops here and the record says so.
    package static let maxDecodedBytes = 64 << 20

    /// The call with a decoded body and no `content-encoding`, or the call unchanged when it is plain,
    /// truncated (a cut stream cannot be inflated), or in an encoding we do not read (then the adapter notes it).
    package static func decoded(_ call: CapturedCall) -> CapturedCall {
        guard let encoding = call.responseHeader("content-encoding")?.lowercased(), !call.responseBody.isEmpty,
            !call.responseBodyTruncated
        else { return call }
        let algorithm: CompressionAlgorithm
        switch encoding.filter({ $0 != " " }) {
        case "gzip", "x-gzip": algorithm = .gzip()
        case "deflate": algorithm = .zlib()
        default: return call
        }
        var buffer = ByteBuffer(bytes: call.responseBody)
        guard let plain = try? buffer.decompress(with: algorithm, maxSize: maxDecodedBytes) else { return call }
        var decoded = call
        decoded.responseBody = Array(plain.readableBytesView)
        decoded.responseHeaders.removeAll { $0.hasName("content-encoding") }
        return decoded
    }
}
