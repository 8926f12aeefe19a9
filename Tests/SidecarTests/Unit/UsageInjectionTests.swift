import Foundation
import NIOCore
import Testing

@testable import Sidecar

@Suite struct UsageInjectionTests {
    func inject(_ body: String) -> String? {
        UsageInjection.inject(into: ByteBuffer(string: body)).map { String(buffer: $0) }
    }

    @Test func aStreamWithoutStreamOptionsAsksForUsage() throws {
        let body = #"  {"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}"#
        let injected = try #require(inject(body))
        #expect(
            injected
                == #"  {"stream_options":{"include_usage":true},"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}"#
        )
        let object = try JSONSerialization.jsonObject(with: Data(injected.utf8)) as? [String: Any]
        #expect((object?["stream_options"] as? [String: Any])?["include_usage"] as? Bool == true)
    }

    @Test func everythingElseIsLeftAlone() {
        #expect(inject(#"{"model":"m","messages":[]}"#) == nil)
        #expect(inject(#"{"model":"m","stream":false}"#) == nil)
        #expect(inject(#"{"model":"m","stream":true,"stream_options":{"include_usage":false}}"#) == nil)
        #expect(inject(#"{"model":"m","stream":true,"stream_options":{"include_usage":true}}"#) == nil)
        #expect(inject(#"{"model":"m","messages":[{"role":"user","content":"\"stream\": true"}]}"#) == nil)
        #expect(inject(#"{not json "stream":true"#) == nil)
        #expect(inject(#"[{"stream":true}]"#) == nil)
    }
}

@Suite struct UsageChunkFilterTests {
    /// A stream as the upstream sends it when usage was asked for: `usage: null` on every chunk, then a usage chunk.
    static let upstream = [
        #"data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":""}}],"usage":null}"#,
        #"data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hel"}}],"usage":null}"#,
        #"data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":"stop"}],"usage":null}"#,
        #"data: {"id":"c1","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11}}"#,
        "data: [DONE]",
    ].map { $0 + "\n\n" }.joined()

    /// The same stream as the agent would get without asking for usage.
    static let expected = [
        #"data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}"#,
        #"data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hel"}}]}"#,
        #"data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":"stop"}]}"#,
        "data: [DONE]",
    ].map { $0 + "\n\n" }.joined()

    func run(_ parts: [ArraySlice<UInt8>]) -> String {
        var filter = UsageChunkFilter()
        var output: [UInt8] = []
        for part in parts { output += filter.process(ByteBuffer(bytes: part)) }
        output += filter.finish()
        return String(decoding: output, as: UTF8.self)
    }

    @Test func theUsageChunkAndUsageNullsAreRemoved() {
        #expect(run([Array(Self.upstream.utf8)[...]]) == Self.expected)
    }

    @Test func theResultDoesNotDependOnWhereTheStreamIsSplit() {
        let bytes = Array(Self.upstream.utf8)
        for cut in 0...bytes.count {
            #expect(run([bytes[..<cut], bytes[cut...]]) == Self.expected, "split at \(cut)")
        }
        #expect(run(bytes.map { [$0][...] }) == Self.expected, "byte by byte")
    }

    @Test func crlfStreamsAndSpacedJSONAreHandled() {
        let upstream = Self.upstream.replacingOccurrences(of: "\n", with: "\r\n")
            .replacingOccurrences(of: #","usage":null"#, with: #", "usage": null"#)
        #expect(run([Array(upstream.utf8)[...]]) == Self.expected.replacingOccurrences(of: "\n", with: "\r\n"))
    }

    @Test func completeEventsPassAtOnceAndPartialOnesWait() {
        var filter = UsageChunkFilter()
        let first = filter.process(ByteBuffer(string: "data: {\"a\":1}\n\ndata: {\"b\""))
        #expect(String(decoding: first, as: UTF8.self) == "data: {\"a\":1}\n\n")
        let second = filter.process(ByteBuffer(string: ":2}\n\n"))
        #expect(String(decoding: second, as: UTF8.self) == "data: {\"b\":2}\n\n")
        #expect(filter.finish().isEmpty)
    }

    @Test func aStreamCutShortIsForwardedAsItCame() {
        var filter = UsageChunkFilter()
        let out = filter.process(ByteBuffer(string: "data: {\"partial\":")) + filter.finish()
        #expect(String(decoding: out, as: UTF8.self) == "data: {\"partial\":")
    }
}
