import Foundation
import NIOCore

/// OpenAI streams carry token usage only when the client asks for it. For a chat stream that did not ask,
/// the sidecar asks on its behalf (so the record has tokens and cost) and `UsageChunkFilter` hides the
/// extra usage from the agent, which then sees exactly the stream it requested.
enum UsageInjection {
    static let member = Array(#""stream_options":{"include_usage":true},"#.utf8)
    private static let streamKey = Array(#""stream""#.utf8)

    /// The body with `stream_options.include_usage` added, or nil when it is not a stream request without
    /// `stream_options` (then it is forwarded untouched). Only the top-level object is changed, by inserting
    /// one member after its opening brace, so every other byte stays as the agent sent it.
    static func inject(into body: ByteBuffer) -> ByteBuffer? {
        let bytes = body.readableBytesView
        // Most requests never mention "stream": skip the parse for them.
        guard body.withUnsafeReadableBytes({ ByteSearch.firstOffset(of: streamKey, in: $0) }) != nil else { return nil }
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
            (object["stream"] as? Bool) == true, object["stream_options"] == nil,
            let brace = bytes.firstIndex(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D }),
            bytes[brace] == UInt8(ascii: "{")
        else { return nil }
        var rewritten = ByteBuffer()
        rewritten.reserveCapacity(body.readableBytes + member.count)
        rewritten.writeBytes(bytes[bytes.startIndex...brace])
        rewritten.writeBytes(member)
        rewritten.writeBytes(bytes[(brace + 1)...])
        return rewritten
    }
}
