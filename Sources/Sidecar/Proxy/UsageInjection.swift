import Foundation
import LedgerProviders
import NIOCore

/// Some streams carry token usage only when the client asks for it (OpenAI chat completions: the provider
/// descriptions' `StreamUsage.whenAsked`). For such a stream that did not ask, the sidecar asks on its behalf (so the
/// record has tokens and cost) and `UsageChunkFilter` hides the extra usage from the agent, which then sees exactly
/// the stream it requested.
enum UsageInjection {
    private static let streamKey = Array(#""stream""#.utf8)

    /// The body with the format's usage option added, or nil when the format always reports usage, or the body is
    /// not a stream request without that option (then it is forwarded untouched). Only the top-level object is
    /// changed, by inserting one member after its opening brace, so every other byte stays as the agent sent it.
    static func inject(into body: ByteBuffer, for usage: ProviderDescription.StreamUsage) -> ByteBuffer? {
        guard case .whenAsked(let optionKey, let member) = usage else { return nil }
        let bytes = body.readableBytesView
        // Most requests never mention "stream": skip the parse for them.
        guard body.withUnsafeReadableBytes({ ByteSearch.firstOffset(of: streamKey, in: $0) }) != nil else { return nil }
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
            (object["stream"] as? Bool) == true, object[optionKey] == nil,
            let brace = bytes.firstIndex(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D }),
            bytes[brace] == UInt8(ascii: "{")
        else { return nil }
        var rewritten = ByteBuffer()
        rewritten.reserveCapacity(body.readableBytes + member.utf8.count + 1)
        rewritten.writeBytes(bytes[bytes.startIndex...brace])
        rewritten.writeString(member)
        rewritten.writeInteger(UInt8(ascii: ","))
        rewritten.writeBytes(bytes[(brace + 1)...])
        return rewritten
    }

    /// The body of an OpenAI chat request with usage asked for, as `inject(into:for:)` makes it.
    static func inject(into body: ByteBuffer) -> ByteBuffer? {
        inject(into: body, for: ProviderFormat.openAIChat.described.streamUsage)
    }
}
