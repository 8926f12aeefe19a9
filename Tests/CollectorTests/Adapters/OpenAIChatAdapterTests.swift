import LedgerProtocol
import Testing

@testable import Collector

/// OpenAI chat request fields, whole responses and their cost.
@Suite("OpenAI chat completions, non-streaming")
struct OpenAIChatAdapterTests {
    static let weatherRequest = """
        {"model":"gpt-4o-mini","temperature":0.2,"max_completion_tokens":512,
         "messages":[
          {"role":"developer","content":[{"type":"text","text":"You are a travel agent."},{"type":"text","text":"Be brief."}]},
          {"role":"user","content":[{"type":"text","text":"Weather in Paris and Rome?"},{"type":"image_url","image_url":{"url":"https://example.com/map.png"}}]},
          {"role":"assistant","content":null,"tool_calls":[{"id":"call_old","type":"function","function":{"name":"get_time","arguments":"{}"}}]},
          {"role":"tool","tool_call_id":"call_old","content":"12:00"},
          {"role":"assistant","content":null,"tool_calls":[
            {"id":"call_a","type":"function","function":{"name":"get_weather","arguments":"{\\"city\\":\\"Paris\\"}"}},
            {"id":"call_b","type":"function","function":{"name":"get_weather","arguments":"{\\"city\\":\\"Rome\\"}"}}]},
          {"role":"tool","tool_call_id":"call_a","content":"18C"},
          {"role":"tool","tool_call_id":"call_b","content":[{"type":"text","text":"21C"}]}
         ],
         "tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]}
        """

    static let parallelToolCallsResponse = """
        {"id":"chatcmpl-9","object":"chat.completion","created":1790000000,"model":"gpt-4o-mini-2024-07-18",
         "choices":[{"index":0,"message":{"role":"assistant","content":null,"refusal":null,"tool_calls":[
           {"id":"call_1","type":"function","function":{"name":"book_hotel","arguments":"{\\"city\\":\\"Paris\\",\\"nights\\":2}"}},
           {"id":"call_2","type":"function","function":{"name":"book_hotel","arguments":"{\\"city\\":\\"Rome\\",\\"nights\\":1}"}}]},
          "logprobs":null,"finish_reason":"tool_calls"}],
         "usage":{"prompt_tokens":1200,"completion_tokens":300,"total_tokens":1500,
          "prompt_tokens_details":{"cached_tokens":1024,"audio_tokens":0},
          "completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0}},
         "system_fingerprint":"fp_1"}
        """

    @Test func requestFieldsAndOnlyTheLatestToolResults() throws {
        let record = CapturedCallFixture.record(
            CapturedCallFixture.call(request: Self.weatherRequest, response: Self.parallelToolCallsResponse))
        #expect(record.provider == "openai")
        #expect(record.modelID == "gpt-4o-mini")
        #expect(record.messages.count == 7)
        #expect(record.systemPrompt == "You are a travel agent.\nBe brief.")
        #expect(record.temperature == 0.2)
        #expect(record.maxTokens == 512)
        #expect(record.stream == false)
        #expect(record.tools?[0]?["function"]?["name"] == .string("get_weather"))
        let results = try #require(record.toolResults)
        #expect(results.map(\.toolCallID) == ["call_a", "call_b"])
        #expect(results[0].content == .string("18C"))
        #expect(results[1].content[0]?["text"] == .string("21C"))
    }

    @Test func parallelToolCallsCachedTokensAndCost() {
        let record = CapturedCallFixture.record(
            CapturedCallFixture.call(request: Self.weatherRequest, response: Self.parallelToolCallsResponse))
        #expect(record.content == nil)
        #expect(
            record.toolCalls == [
                ToolCall(id: "call_1", name: "book_hotel", arguments: #"{"city":"Paris","nights":2}"#),
                ToolCall(id: "call_2", name: "book_hotel", arguments: #"{"city":"Rome","nights":1}"#),
            ])
        #expect(record.stopReason == "tool_calls")
        #expect(record.tokensIn == 1200)
        #expect(record.tokensOut == 300)
        #expect(record.tokensCacheRead == 1024)
        #expect(record.tokensCacheWrite == nil)
        #expect(record.tokensReasoning == 0)
        // (1200 - 1024) x 0.15 + 1024 x 0.075 + 300 x 0.60, per million.
        #expect(CapturedCallFixture.same(record.costUSD, 0.0002832))
        #expect(record.priceTable == "builtin-2026-11")
        #expect(record.errorDetail == nil)
    }

    @Test func reasoningTokensArePartOfOutput() {
        let request = #"{"model":"o3-mini","messages":[{"role":"user","content":"Prove it."}],"max_tokens":4000}"#
        let response = """
            {"id":"c","object":"chat.completion","model":"o3-mini-2025-01-31",
             "choices":[{"index":0,"message":{"role":"assistant","content":"QED."},"finish_reason":"stop"}],
             "usage":{"prompt_tokens":2000,"completion_tokens":1000,"total_tokens":3000,
              "prompt_tokens_details":{"cached_tokens":1536},"completion_tokens_details":{"reasoning_tokens":640}}}
            """
        let record = CapturedCallFixture.record(CapturedCallFixture.call(request: request, response: response))
        #expect(record.content == "QED.")
        #expect(record.maxTokens == 4000)
        #expect(record.systemPrompt == nil)
        #expect(record.tokensOut == 1000)
        #expect(record.tokensReasoning == 640)
        // 464 x 1.10 + 1536 x 0.55 + 1000 x 4.40: reasoning is not billed a second time.
        #expect(CapturedCallFixture.same(record.costUSD, 0.0057552))
    }

    @Test func arrayContentIsJoinedAndSystemRoleIsTheSystemPrompt() {
        let request = """
            {"model":"gpt-4.1","messages":[{"role":"user","content":"hi"},{"role":"system","content":"Late system"},
             {"role":"system","content":"Second"}]}
            """
        let response = """
            {"model":"gpt-4.1","choices":[{"index":0,"message":{"role":"assistant",
             "content":[{"type":"text","text":"Hello "},{"type":"text","text":"world"}]},"finish_reason":"stop"}]}
            """
        let record = CapturedCallFixture.record(CapturedCallFixture.call(request: request, response: response))
        #expect(record.systemPrompt == "Late system")
        #expect(record.content == "Hello world")
        #expect(record.toolCalls == nil)
        #expect(record.toolResults == nil)
        #expect(record.tokensIn == nil)
        #expect(record.costUSD == nil)
    }

    @Test func refusalIsTheContentWhenThereIsNoText() {
        let response = """
            {"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":null,
             "refusal":"I can't help with that."},"finish_reason":"stop"}]}
            """
        let record = CapturedCallFixture.record(
            CapturedCallFixture.call(request: #"{"model":"gpt-4o","messages":[]}"#, response: response))
        #expect(record.content == "I can't help with that.")
    }

    @Test func legacyFunctionsAndFunctionCall() {
        let request = """
            {"model":"gpt-3.5-turbo","max_tokens":100,"functions":[{"name":"lookup","parameters":{}}],
             "messages":[{"role":"user","content":"find x"}]}
            """
        let response = """
            {"model":"gpt-3.5-turbo-0125","choices":[{"index":0,"message":{"role":"assistant","content":null,
             "function_call":{"name":"lookup","arguments":"{\\"q\\":\\"x\\"}"}},"finish_reason":"function_call"}],
             "usage":{"prompt_tokens":50,"completion_tokens":10}}
            """
        let record = CapturedCallFixture.record(CapturedCallFixture.call(request: request, response: response))
        #expect(record.tools?[0]?["name"] == .string("lookup"))
        #expect(record.maxTokens == 100)
        #expect(record.toolCalls == [ToolCall(id: nil, name: "lookup", arguments: #"{"q":"x"}"#)])
        #expect(record.stopReason == "function_call")
        #expect(CapturedCallFixture.same(record.costUSD, 0.00004))
    }

    @Test func toolCallWithoutFunctionDoesNotLoseTheCapture() {
        let response = """
            {"model":"gpt-5","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[
              {"id":"call_c","type":"custom","custom":{"name":"run_sql","input":"SELECT 1"}},
              {"id":"call_d","type":"function"}]},"finish_reason":"tool_calls"}]}
            """
        let record = CapturedCallFixture.record(
            CapturedCallFixture.call(request: #"{"model":"gpt-5","messages":[]}"#, response: response))
        #expect(
            record.toolCalls == [
                ToolCall(id: "call_c", name: "run_sql", arguments: "SELECT 1"),
                ToolCall(id: "call_d", name: nil, arguments: ""),
            ])
    }

    @Test func deploymentPathWithoutModelTakesTheResponseModel() {
        let response = """
            {"model":"gpt-4o-2024-08-06","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},
             "finish_reason":"stop"}],"usage":{"prompt_tokens":1100,"completion_tokens":50,
             "prompt_tokens_details":{"cached_tokens":1000}}}
            """
        let call = CapturedCallFixture.call(
            path: "/openai/deployments/prod-4o/chat/completions?api-version=2024-10-21",
            request: #"{"messages":[{"role":"user","content":"hi"}]}"#, response: response)
        let record = CapturedCallFixture.record(call)
        #expect(record.provider == "openai")
        #expect(record.modelID == "gpt-4o-2024-08-06")
        // 100 x 2.50 + 1000 x 1.25 + 50 x 10.
        #expect(CapturedCallFixture.same(record.costUSD, 0.002))
    }

    @Test func anUnpricedAliasIsPricedByTheModelThatAnswered() {
        let response = """
            {"model":"gpt-4o-mini","choices":[{"index":0,"message":{"content":"ok"},"finish_reason":"stop"}],
             "usage":{"prompt_tokens":1000,"completion_tokens":1000}}
            """
        let record = CapturedCallFixture.record(
            CapturedCallFixture.call(request: #"{"model":"team-default","messages":[]}"#, response: response))
        #expect(record.modelID == "team-default")
        #expect(CapturedCallFixture.same(record.costUSD, 0.00075))
    }

    @Test func unknownModelHasTokensButNoCost() {
        let response = """
            {"model":"llama-3.1-70b-instruct","choices":[{"index":0,"message":{"content":"hi"},"finish_reason":"stop"}],
             "usage":{"prompt_tokens":10,"completion_tokens":5}}
            """
        let record = CapturedCallFixture.record(
            CapturedCallFixture.call(request: #"{"model":"llama-3.1-70b-instruct","messages":[]}"#, response: response))
        #expect(record.tokensIn == 10)
        #expect(record.tokensOut == 5)
        #expect(record.costUSD == nil)
        #expect(record.priceTable == nil)
    }
}
