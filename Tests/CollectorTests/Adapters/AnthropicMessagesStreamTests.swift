import LedgerProtocol
import Testing

@testable import Collector

/// Anthropic stream assembly, including streams cut at any byte.
@Suite("Anthropic messages, streaming")
struct AnthropicMessagesStreamTests {
    static let request = """
        {"model":"claude-haiku-4-5-20251001","max_tokens":2048,"stream":true,"system":"You read code.",
         "thinking":{"type":"enabled","budget_tokens":1024},
         "messages":[{"role":"user","content":"Open main.swift"}]}
        """

    static let events: [(name: String?, data: String)] = [
        (
            "message_start",
            #"{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-haiku-4-5-20251001","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":50,"cache_creation_input_tokens":1000,"cache_read_input_tokens":4000,"output_tokens":1}}}"#
        ),
        (
            "content_block_start",
            #"{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}"#
        ),
        ("ping", #"{"type": "ping"}"#),
        (
            "content_block_delta",
            #"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"They want the file."}}"#
        ),
        (
            "content_block_delta",
            #"{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"EqQBCg"}}"#
        ),
        ("content_block_stop", #"{"type":"content_block_stop","index":0}"#),
        ("content_block_start", #"{"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}"#),
        (
            "content_block_delta",
            #"{"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Reading "}}"#
        ),
        (
            "content_block_delta",
            #"{"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"the file. ünïcødé ✓"}}"#
        ),
        ("content_block_stop", #"{"type":"content_block_stop","index":1}"#),
        (
            "content_block_start",
            #"{"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_9","name":"read_file","input":{}}}"#
        ),
        (
            "content_block_delta",
            #"{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":""}}"#
        ),
        (
            "content_block_delta",
            #"{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\"path\": \"sr"}}"#
        ),
        (
            "content_block_delta",
            #"{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"c/main.swift\", \"limit\": 20}"}}"#
        ),
        ("content_block_stop", #"{"type":"content_block_stop","index":2}"#),
        (
            "message_delta",
            #"{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":87}}"#
        ),
        ("message_stop", #"{"type":"message_stop"}"#),
    ]

    static func call(body: String, outcome: CallOutcome = .completed, detail: String? = nil) -> CapturedCall {
        CapturedCallFixture.call(
            path: "/v1/messages", request: request, response: body, contentType: "text/event-stream",
            outcome: outcome, outcomeDetail: detail)
    }

    static var golden: CallRecord { CapturedCallFixture.record(call(body: CapturedCallFixture.sse(events))) }

    @Test func assemblesTextToolUseAndUsage() {
        let record = Self.golden
        #expect(record.provider == "anthropic")
        #expect(record.stream)
        #expect(record.systemPrompt == "You read code.")
        #expect(record.messages.count == 2)
        #expect(record.content == "Reading the file. ünïcødé ✓")
        #expect(
            record.toolCalls == [
                ToolCall(id: "toolu_9", name: "read_file", arguments: #"{"limit":20,"path":"src/main.swift"}"#)
            ])
        #expect(record.stopReason == "tool_use")
        #expect(record.tokensIn == 5050)
        #expect(record.tokensOut == 87)
        #expect(record.tokensCacheRead == 4000)
        #expect(record.tokensCacheWrite == 1000)
        // 50 x 1 + 4000 x 0.10 + 1000 x 1.25 + 87 x 5, per million.
        #expect(CapturedCallFixture.same(record.costUSD, 0.002135))
        #expect(record.errorDetail == nil)
    }

    @Test func theSameAnswerWholeOrStreamedGivesTheSameRecordFields() {
        let whole = """
            {"id":"msg_1","type":"message","role":"assistant","model":"claude-haiku-4-5-20251001",
             "content":[{"type":"thinking","thinking":"They want the file.","signature":"EqQBCg"},
              {"type":"text","text":"Reading the file. ünïcødé ✓"},
              {"type":"tool_use","id":"toolu_9","name":"read_file","input":{"path":"src/main.swift","limit":20}}],
             "stop_reason":"tool_use","usage":{"input_tokens":50,"cache_creation_input_tokens":1000,
             "cache_read_input_tokens":4000,"output_tokens":87}}
            """
        let nonStream = CapturedCallFixture.record(
            CapturedCallFixture.call(path: "/v1/messages", request: Self.request, response: whole))
        let streamed = Self.golden
        #expect(nonStream.content == streamed.content)
        #expect(nonStream.toolCalls == streamed.toolCalls)
        #expect(nonStream.stopReason == streamed.stopReason)
        #expect(nonStream.tokensIn == streamed.tokensIn)
        #expect(nonStream.costUSD == streamed.costUSD)
    }

    @Test func lineEndingsDoNotChangeTheRecord() {
        let golden = Self.golden
        for newline in ["\r\n", "\r"] {
            #expect(
                CapturedCallFixture.record(Self.call(body: CapturedCallFixture.sse(Self.events, newline: newline)))
                    == golden)
        }
        let withoutEventLines = CapturedCallFixture.sse(Self.events.map { (nil, $0.data) })
        #expect(CapturedCallFixture.record(Self.call(body: withoutEventLines)) == golden)
    }

    @Test func everyTruncationPointYieldsAPartialRecord() {
        let full = Array(CapturedCallFixture.sse(Self.events).utf8)
        let golden = Self.golden
        for length in 0...full.count {
            var call = Self.call(body: "", outcome: .upstreamFailed, detail: "upstream failed: connection reset")
            call.responseBody = Array(full[..<length])
            let record = CapturedCallFixture.record(call)
            #expect(record.outcome == "upstream_failed")
            #expect(record.errorDetail == "upstream failed: connection reset")
            #expect(golden.content?.hasPrefix(record.content ?? "") == true)
            #expect(record.toolCalls == nil || record.toolCalls?.first?.id == "toolu_9")
            #expect((record.tokensOut ?? 0) <= 87)
        }
    }

    @Test func aTruncatedToolInputKeepsTheRawFragment() {
        let body = CapturedCallFixture.sse(Array(Self.events.prefix(13)))
        let record = CapturedCallFixture.record(Self.call(body: body, outcome: .clientDisconnected))
        #expect(record.toolCalls == [ToolCall(id: "toolu_9", name: "read_file", arguments: #"{"path": "sr"#)])
        #expect(record.tokensOut == 1)
        #expect(record.errorDetail == "client disconnected")
    }

    @Test func theLastMessageDeltaUsageWins() {
        var events = Self.events
        events.insert(
            ("message_delta", #"{"type":"message_delta","delta":{"stop_reason":null},"usage":{"output_tokens":10}}"#),
            at: 15)
        events[16] = (
            "message_delta",
            #"{"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"input_tokens":60,"cache_creation_input_tokens":1000,"cache_read_input_tokens":4000,"output_tokens":87}}"#
        )
        let record = CapturedCallFixture.record(Self.call(body: CapturedCallFixture.sse(events)))
        #expect(record.tokensOut == 87)
        #expect(record.tokensIn == 5060)
        #expect(record.stopReason == "tool_use")
    }

    @Test func anErrorEventIsTheErrorDetail() {
        let events: [(name: String?, data: String)] =
            Array(Self.events.prefix(1)) + [
                (
                    "content_block_start",
                    #"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#
                ),
                (
                    "content_block_delta",
                    #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hel"}}"#
                ),
                ("error", #"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#),
            ]
        let record = CapturedCallFixture.record(Self.call(body: CapturedCallFixture.sse(events)))
        #expect(record.content == "Hel")
        #expect(record.statusCode == 200)
        #expect(record.errorDetail == "Overloaded")
        #expect(record.tokensIn == 5050)
    }
}
