import LedgerProtocol
import Testing

@testable import Collector

/// Anthropic request fields, whole responses and their cost.
@Suite("Anthropic messages, non-streaming")
struct AnthropicMessagesAdapterTests {
    static let codingRequest = """
        {"model":"claude-sonnet-4-5-20250929","max_tokens":4096,"temperature":1,"stream":false,
         "system":"You are a coding agent.",
         "tools":[{"name":"read_file","description":"Read a file","input_schema":{"type":"object","properties":{"path":{"type":"string"}}}}],
         "messages":[
          {"role":"user","content":"Fix the bug"},
          {"role":"assistant","content":[{"type":"tool_use","id":"toolu_old","name":"read_file","input":{"path":"a.py"}}]},
          {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_old","content":"print(1)"}]},
          {"role":"assistant","content":[{"type":"text","text":"Now b."},{"type":"tool_use","id":"toolu_01","name":"read_file","input":{"path":"b.py"}}]},
          {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_01","content":[{"type":"text","text":"x = 1"}]},
                                    {"type":"text","text":"continue"}]}
         ]}
        """

    static let codingResponse = """
        {"id":"msg_01","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929",
         "content":[
          {"type":"thinking","thinking":"The bug is in b.py.","signature":"EqQBCgIYAh"},
          {"type":"text","text":"I found it. "},
          {"type":"text","text":"Patching now."},
          {"type":"tool_use","id":"toolu_02","name":"write_file","input":{"path":"b.py","mode":{"z":1,"a":true},"content":"x = 2\\n"}}],
         "stop_reason":"tool_use","stop_sequence":null,
         "usage":{"input_tokens":12,"cache_creation_input_tokens":2000,"cache_read_input_tokens":30000,"output_tokens":450,
          "service_tier":"standard"}}
        """

    @Test func stringSystemBecomesPromptAndFirstMessage() throws {
        let record = CapturedCallFixture.record(
            CapturedCallFixture.call(path: "/v1/messages", request: Self.codingRequest, response: Self.codingResponse))
        #expect(record.provider == "anthropic")
        #expect(record.modelID == "claude-sonnet-4-5-20250929")
        #expect(record.systemPrompt == "You are a coding agent.")
        #expect(record.messages.count == 6)
        #expect(
            record.messages[0] == .object(["role": .string("system"), "content": .string("You are a coding agent.")]))
        #expect(record.messages[1]["content"] == .string("Fix the bug"))
        #expect(record.maxTokens == 4096)
        #expect(record.temperature == 1)
        #expect(record.tools?[0]?["name"] == .string("read_file"))
        let results = try #require(record.toolResults)
        #expect(results.count == 1)
        #expect(results[0].toolCallID == "toolu_01")
        #expect(results[0].content[0]?["text"] == .string("x = 1"))
    }

    @Test func allTextBlocksButNoThinkingAndSortedToolArguments() {
        let record = CapturedCallFixture.record(
            CapturedCallFixture.call(path: "/v1/messages", request: Self.codingRequest, response: Self.codingResponse))
        #expect(record.content == "I found it. Patching now.")
        #expect(
            record.toolCalls == [
                ToolCall(
                    id: "toolu_02", name: "write_file",
                    arguments: #"{"content":"x = 2\n","mode":{"a":true,"z":1},"path":"b.py"}"#)
            ])
        #expect(record.stopReason == "tool_use")
    }

    @Test func cacheReadsAndWritesAreInputAndPricedAtCacheRates() {
        let record = CapturedCallFixture.record(
            CapturedCallFixture.call(path: "/v1/messages", request: Self.codingRequest, response: Self.codingResponse))
        #expect(record.tokensIn == 32_012)
        #expect(record.tokensOut == 450)
        #expect(record.tokensCacheRead == 30_000)
        #expect(record.tokensCacheWrite == 2000)
        #expect(record.tokensReasoning == nil)
        // 12 x 3 + 30000 x 0.30 + 2000 x 3.75 + 450 x 15, per million.
        #expect(CapturedCallFixture.same(record.costUSD, 0.023286))
        #expect(record.priceTable == "builtin-2026-11")
    }

    @Test func blockSystemIsJoinedAndKeptRawInMessages() {
        let request = """
            {"model":"claude-opus-4-1-20250805","max_tokens":1024,
             "system":[{"type":"text","text":"You are Claude Code.","cache_control":{"type":"ephemeral"}},
                       {"type":"text","text":"Be careful."}],
             "messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}]}
            """
        let response = """
            {"type":"message","role":"assistant","model":"claude-opus-4-1-20250805",
             "content":[{"type":"text","text":"Hello."}],"stop_reason":"end_turn",
             "usage":{"input_tokens":100,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":10}}
            """
        let record = CapturedCallFixture.record(
            CapturedCallFixture.call(path: "/v1/messages?beta=true", request: request, response: response))
        #expect(record.systemPrompt == "You are Claude Code.\nBe careful.")
        #expect(record.messages.count == 2)
        #expect(record.messages[0]["role"] == .string("system"))
        #expect(record.messages[0]["content"]?[0]?["cache_control"]?["type"] == .string("ephemeral"))
        #expect(record.toolResults == nil)
        #expect(record.content == "Hello.")
        #expect(record.stopReason == "end_turn")
        // 100 x 15 + 10 x 75.
        #expect(CapturedCallFixture.same(record.costUSD, 0.00225))
    }

    @Test func oneHourCacheWritesCostTwiceTheInputRate() {
        let response = """
            {"type":"message","model":"claude-haiku-4-5-20251001","content":[{"type":"text","text":"ok"}],
             "stop_reason":"end_turn","usage":{"input_tokens":100,"cache_creation_input_tokens":1000,
             "cache_read_input_tokens":0,"output_tokens":10,
             "cache_creation":{"ephemeral_5m_input_tokens":400,"ephemeral_1h_input_tokens":600}}}
            """
        let record = CapturedCallFixture.record(
            CapturedCallFixture.call(
                path: "/v1/messages", request: #"{"model":"claude-haiku-4-5","max_tokens":10,"messages":[]}"#,
                response: response))
        #expect(record.tokensIn == 1100)
        #expect(record.tokensCacheWrite == 1000)
        // 100 x 1 + 400 x 1.25 + 600 x 2 + 10 x 5.
        #expect(CapturedCallFixture.same(record.costUSD, 0.00185))
    }

    @Test func requestWithoutModelTakesTheResponseModel() {
        let response = """
            {"type":"message","model":"claude-3-5-haiku-20241022","content":[],"stop_reason":"end_turn",
             "usage":{"input_tokens":1000,"output_tokens":100}}
            """
        let record = CapturedCallFixture.record(
            CapturedCallFixture.call(
                path: "/v1/messages", request: #"{"max_tokens":10,"messages":[]}"#, response: response))
        #expect(record.modelID == "claude-3-5-haiku-20241022")
        #expect(record.content == nil)
        #expect(record.tokensCacheRead == nil)
        // 1000 x 0.80 + 100 x 4.
        #expect(CapturedCallFixture.same(record.costUSD, 0.0012))
    }
}
