/// One wire format as both halves need it: which request paths are its calls, which provider it stands for, how
/// its streams come to carry token usage, and which request fields admission reads. The collector's adapter for the
/// format (`Collector/Adapters/`) reads the rest.
///
/// Adding a format: a description here and its case in `ProviderFormat`, an adapter in the collector, and fixtures in
/// `Tests/Fixtures/wire`.
package struct ProviderDescription: Sendable {
    /// The `provider` of its records: `openai`, `anthropic`.
    package let provider: String
    /// The path agents call (the one [reference.md](../../docs/reference.md#what-is-captured) lists).
    package let path: String
    /// What a path must end with to be a call of this format; begins with `/`, so whole segments only.
    package let pathSuffix: StaticString
    /// How a stream of this format comes to report token usage.
    package let streamUsage: StreamUsage
    /// The request's output-token cap for admission: the first of these top-level members that holds one.
    package let maxTokensFields: [String]
    /// The request's model for admission: this top-level member, a string.
    package let modelField: String

    /// How a format's streams report token usage.
    package enum StreamUsage: Sendable, Equatable {
        /// Every stream reports it.
        case alwaysReported
        /// Only a stream that asks: a `"stream": true` request without a top-level `optionKey` member gets `member`
        /// inserted (the sidecar asks on the agent's behalf, then takes the extra usage out of the stream).
        case whenAsked(optionKey: String, member: String)
    }

    package static let openAIChat = ProviderDescription(
        provider: "openai", path: "/v1/chat/completions", pathSuffix: "/chat/completions",
        streamUsage: .whenAsked(optionKey: "stream_options", member: #""stream_options":{"include_usage":true}"#),
        maxTokensFields: ["max_completion_tokens", "max_tokens"], modelField: "model")

    package static let anthropicMessages = ProviderDescription(
        provider: "anthropic", path: "/v1/messages", pathSuffix: "/v1/messages", streamUsage: .alwaysReported,
        maxTokensFields: ["max_tokens"], modelField: "model")

    package static let openAIResponses = ProviderDescription(
        provider: "openai", path: "/v1/responses", pathSuffix: "/responses", streamUsage: .alwaysReported,
        maxTokensFields: ["max_output_tokens"], modelField: "model")

    /// Whether `path` (from `ProviderPaths.path(of:)`) ends with this format's suffix. Allocation-free; on a native
    /// string (every request target), a comparison of two byte buffers.
    package func matches(path: Substring) -> Bool {
        pathSuffix.withUTF8Buffer { suffix in
            if let matched = path.utf8.withContiguousStorageIfAvailable({ bytes in
                bytes.count >= suffix.count && UnsafeBufferPointer(rebasing: bytes.suffix(suffix.count)).elementsEqual(suffix)
            }) {
                return matched
            }
            let bytes = path.utf8
            guard bytes.count >= suffix.count else { return false }
            return bytes[bytes.index(bytes.endIndex, offsetBy: -suffix.count)...].elementsEqual(suffix)
        }
    }
}

/// The path part of a request target, as both halves match it.
package enum ProviderPaths {
    /// The path of a request target, without its query (or fragment) and trailing slashes.
    package static func path(of target: String) -> Substring {
        path(of: target[...])
    }

    /// The path of a request target, without its query (or fragment) and trailing slashes. Byte by byte: `?`, `#`
    /// and `/` are ASCII, so every cut falls between Unicode scalars; on a native string the bytes are read in place.
    package static func path(of whole: Substring) -> Substring {
        let utf8 = whole.utf8
        if let length = utf8.withContiguousStorageIfAvailable({ pathLength(of: $0) }) {
            return whole[..<utf8.index(utf8.startIndex, offsetBy: length)]
        }
        return whole[..<utf8.index(utf8.startIndex, offsetBy: pathLength(of: Array(utf8)))]
    }

    /// How many leading bytes of `target` are its path: up to the first `?` or `#`, less trailing slashes (a path
    /// of slashes alone keeps one).
    private static func pathLength<Bytes: RandomAccessCollection<UInt8>>(of target: Bytes) -> Int where Bytes.Index == Int {
        var end = target.firstIndex { $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") } ?? target.endIndex
        while end - target.startIndex > 1 && target[end - 1] == UInt8(ascii: "/") { end -= 1 }
        return end - target.startIndex
    }
}
