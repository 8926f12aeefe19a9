import LedgerProtocol
import Testing

@testable import Collector

/// OpenAI chat stream assembly, including streams cut at any byte.
@Suite("OpenAI chat completions, streaming")
struct OpenAIChatStreamTests {
    static let request = """
        {"model":"gpt-4.1","stream":true,"stream_options":{"include_usage":true},
         "messages":[{"role":"user","content":"Weather in Paris and Rome?"}]}
        """

    static func chunk(_ choices: String, usage: String = "null") -> String {
        #"{"id":"chatcmpl-7","object":"chat.completion.chunk","created":1790000000,"model":"gpt-4.1-2025-04-14","#
            + #""system_fingerprint":"fp_9","choices":\#(choices),"usage":\#(usage)}"#
    }

    static func delta(_ delta: String, finish: String = "null") -> String {
        chunk(#"[{"index":0,"delta":\#(delta),"logprobs":null,"finish_reason":\#(finish)}]"#)
    }

    static let events: [String] = [
        delta(#"{"role":"assistant","content":"","refusal":null}"#),
        delta(#"{"content":"Checking "}"#),
        delta(#"{"content":"the weather."}"#),
        delta(
            #"{"tool_calls":[{"index":0,"id":"call_p","type":"function","function":{"name":"get_weather","arguments":""}}]}"#
        ),
        delta(#"{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}}]}"#),
        delta(
            #"{"tool_calls":[{"index":1,"id":"call_r","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Rome\"}"}}]}"#
        ),
        delta(#"{"tool_calls":[{"index":0,"function":{"arguments":"\"Paris\"}"}}]}"#),
        delta("{}", finish: #""tool_calls""#),
        chunk(
            "[]",
            usage:
                #"{"prompt_tokens":300,"completion_tokens":40,"total_tokens":340,"prompt_tokens_details":{"cached_tokens":256},"completion_tokens_details":{"reasoning_tokens":0}}"#
        ),
        "[DONE]",
    ]

    static func body(newline: String = "\n", dataPrefix: String = "data: ") -> String {
        ": keep-alive" + newline + newline
            + events.map { dataPrefix + $0 + newline + newline }.joined()
    }

    static func call(body: String, outcome: CallOutcome = .completed, detail: String? = nil) -> CapturedCall {
        CapturedCallFixture.call(
            request: request, response: body, contentType: "text/event-stream; charset=utf-8", outcome: outcome,
            outcomeDetail: detail)
    }

    @Test func assemblesContentToolCallsAndUsage() {
        let record = CapturedCallFixture.record(Self.call(body: Self.body()))
        #expect(record.stream)
        #expect(record.ttftMS == 120)
        #expect(record.latencyMS == 1234.567)
        #expect(record.modelID == "gpt-4.1")
        #expect(record.content == "Checking the weather.")
        #expect(
            record.toolCalls == [
                ToolCall(id: "call_p", name: "get_weather", arguments: #"{"city":"Paris"}"#),
                ToolCall(id: "call_r", name: "get_weather", arguments: #"{"city":"Rome"}"#),
            ])
        #expect(record.stopReason == "tool_calls")
        #expect(record.tokensIn == 300)
        #expect(record.tokensOut == 40)
        #expect(record.tokensCacheRead == 256)
        #expect(record.tokensReasoning == 0)
        // 44 x 2 + 256 x 0.50 + 40 x 8, per million.
        #expect(CapturedCallFixture.same(record.costUSD, 0.000536))
        #expect(record.errorDetail == nil)
    }

    @Test func lineEndingsAndDataSpacingDoNotChangeTheRecord() {
        let golden = CapturedCallFixture.record(Self.call(body: Self.body()))
        for newline in ["\n", "\r\n", "\r"] {
            for prefix in ["data: ", "data:"] {
                #expect(
                    CapturedCallFixture.record(Self.call(body: Self.body(newline: newline, dataPrefix: prefix)))
                        == golden)
            }
        }
    }

    @Test func multiLineDataIsJoinedWithNewlines() {
        let split = Self.events.map { event in
            event.replacing(#","choices""#, with: ",\ndata: \"choices\"")
        }
        let body = split.map { "data: " + $0 + "\n\n" }.joined()
        #expect(body.contains("\ndata: \"choices\""))
        let golden = CapturedCallFixture.record(Self.call(body: Self.body()))
        #expect(CapturedCallFixture.record(Self.call(body: body)) == golden)
    }

    @Test func eventsAfterDoneAndBadJSONAreIgnored() {
        let body =
            Self.body() + "data: " + Self.delta(#"{"content":" Extra."}"#) + "\n\n"
        let garbled = "data: {not json\n\n" + Self.body()
        let golden = CapturedCallFixture.record(Self.call(body: Self.body()))
        #expect(CapturedCallFixture.record(Self.call(body: body)).content == "Checking the weather.")
        #expect(CapturedCallFixture.record(Self.call(body: garbled)) == golden)
    }

    @Test func aLastEventWithoutBlankLineStillCounts() {
        let body = Self.events.dropLast().map { "data: " + $0 }.joined(separator: "\n\n")
        #expect(body.hasSuffix("}}"))
        let record = CapturedCallFixture.record(Self.call(body: body))
        #expect(record.tokensIn == 300)
        #expect(record.content == "Checking the weather.")
    }

    @Test func everyTruncationPointYieldsAPartialRecord() {
        let full = Array(Self.body().utf8)
        let golden = CapturedCallFixture.record(Self.call(body: Self.body()))
        for length in 0...full.count {
            var call = Self.call(body: "", outcome: .clientDisconnected, detail: "client disconnected")
            call.responseBody = Array(full[..<length])
            let record = CapturedCallFixture.record(call)
            #expect(record.stream)
            #expect(record.outcome == "client_disconnected")
            #expect(record.errorDetail?.hasPrefix("client disconnected") == true)
            #expect(golden.content?.hasPrefix(record.content ?? "") == true)
            for (partial, whole) in zip(record.toolCalls ?? [], golden.toolCalls ?? []) {
                #expect(partial.id == whole.id)
                #expect(whole.arguments.hasPrefix(partial.arguments))
            }
            #expect(record.costUSD == nil || record.costUSD == golden.costUSD)
        }
    }

    @Test func aStreamWithoutUsageHasNoTokensAndNoCost() {
        let body = Self.events.filter { !$0.contains("prompt_tokens") }.map { "data: \($0)\n\n" }.joined()
        let record = CapturedCallFixture.record(Self.call(body: body))
        #expect(record.content == "Checking the weather.")
        #expect(record.tokensIn == nil)
        #expect(record.costUSD == nil)
    }

    @Test func aMidStreamErrorIsTheErrorDetail() {
        let body =
            "data: " + Self.delta(#"{"content":"Hal"}"#) + "\n\n"
            + #"data: {"error":{"message":"The server had an error while processing your request.","type":"server_error"}}"#
            + "\n\n"
        let record = CapturedCallFixture.record(Self.call(body: body))
        #expect(record.content == "Hal")
        #expect(record.statusCode == 200)
        #expect(record.errorDetail == "The server had an error while processing your request.")
    }

    @Test func streamFlagWithoutEventStreamContentTypeIsStillAssembled() {
        let call = CapturedCallFixture.call(request: Self.request, response: Self.body(), contentType: nil)
        #expect(CapturedCallFixture.record(call).content == "Checking the weather.")
    }
}
