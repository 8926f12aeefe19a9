import Testing

@testable import Collector

/// OpenAI Responses API requests and whole responses.
@Suite("OpenAI Responses API, non-streaming")
struct OpenAIResponsesAdapterTests {
    static func record(_ request: String, _ response: String, status: UInt16 = 200) -> CallRecord {
        CapturedCallFixture.record(
            CapturedCallFixture.call(path: "/v1/responses", request: request, response: response, status: status))
    }

    static let itemsRequest = """
        {"model":"gpt-4.1","instructions":"Plan trips.","temperature":0.3,"max_output_tokens":500,
         "tools":[{"type":"function","name":"get_weather","parameters":{"type":"object"}}],
         "input":[
          {"role":"user","content":[{"type":"input_text","text":"Paris and Rome?"}]},
          {"type":"function_call","id":"fc_1","call_id":"call_old","name":"get_weather","arguments":"{}"},
          {"type":"function_call_output","call_id":"call_old","output":"cold"},
          {"type":"message","role":"assistant","content":[{"type":"output_text","text":"Checking both."}]},
          {"type":"function_call","id":"fc_2","call_id":"call_p","name":"get_weather","arguments":"{\\"city\\":\\"Paris\\"}"},
          {"type":"function_call","id":"fc_3","call_id":"call_r","name":"get_weather","arguments":"{\\"city\\":\\"Rome\\"}"},
          {"type":"function_call_output","call_id":"call_p","output":"18C"},
          {"type":"function_call_output","call_id":"call_r","output":[{"type":"input_text","text":"21C"}]}]}
        """

    static let response = """
        {"id":"resp_1","object":"response","status":"completed","error":null,"incomplete_details":null,
         "model":"gpt-4.1-2025-04-14","output":[
          {"id":"rs_1","type":"reasoning","summary":[{"type":"summary_text","text":"thinking"}]},
          {"id":"msg_1","type":"message","role":"assistant","content":[
            {"type":"output_text","text":"Paris 18C, ","annotations":[]},{"type":"output_text","text":"Rome 21C."}]},
          {"id":"fc_4","type":"function_call","call_id":"call_book","name":"book","arguments":"{\\"city\\":\\"Rome\\"}"}],
         "usage":{"input_tokens":1000,"input_tokens_details":{"cached_tokens":800},"output_tokens":300,
          "output_tokens_details":{"reasoning_tokens":200},"total_tokens":1300}}
        """

    @Test func requestItemsInstructionsAndOnlyTheLatestToolOutputs() throws {
        let record = Self.record(Self.itemsRequest, Self.response)
        #expect(record.provider == "openai")
        #expect(record.modelID == "gpt-4.1")
        #expect(record.systemPrompt == "Plan trips.")
        #expect(record.messages.count == 9)
        #expect(record.messages.first == .object(["role": .string("system"), "content": .string("Plan trips.")]))
        #expect(record.temperature == 0.3)
        #expect(record.maxTokens == 500)
        #expect(record.tools?[0]?["name"] == .string("get_weather"))
        let results = try #require(record.toolResults)
        #expect(results.map(\.toolCallID) == ["call_p", "call_r"])
        #expect(results[0].content == .string("18C"))
        #expect(results[1].content[0]?["text"] == .string("21C"))
    }

    @Test func outputTextToolCallsAndUsage() {
        let record = Self.record(Self.itemsRequest, Self.response)
        #expect(record.content == "Paris 18C, Rome 21C.")
        #expect(record.toolCalls == [ToolCall(id: "call_book", name: "book", arguments: #"{"city":"Rome"}"#)])
        #expect(record.stopReason == "completed")
        #expect(record.tokensIn == 1000)
        #expect(record.tokensOut == 300)
        #expect(record.tokensCacheRead == 800)
        #expect(record.tokensCacheWrite == nil)
        #expect(record.tokensReasoning == 200)
        #expect(record.costUSD != nil)
        #expect(record.errorDetail == nil)
    }

    @Test func aStringInputIsOneUserMessageAndADeveloperMessageIsTheSystemPrompt() {
        let plain = Self.record(#"{"model":"gpt-4.1","input":"hi"}"#, "{}")
        #expect(plain.messages == [.object(["role": .string("user"), "content": .string("hi")])])
        #expect(plain.systemPrompt == nil)
        #expect(plain.toolResults == nil)
        let developer = Self.record(
            #"{"model":"gpt-4.1","input":[{"role":"developer","content":"Be brief."},{"role":"user","content":"hi"}]}"#,
            "{}")
        #expect(developer.systemPrompt == "Be brief.")
    }

    @Test func previousResponseIDInputIsOnlyToolOutputs() {
        let request = """
            {"model":"gpt-4.1","previous_response_id":"resp_0",
             "input":[{"type":"function_call_output","call_id":"call_1","output":"ok"}]}
            """
        #expect(Self.record(request, "{}").toolResults == [ToolResult(toolCallID: "call_1", content: .string("ok"))])
    }

    @Test func incompleteAndRefusal() {
        let body = """
            {"status":"incomplete","incomplete_details":{"reason":"content_filter"},"model":"gpt-4.1",
             "output":[{"type":"message","role":"assistant","content":[{"type":"refusal","refusal":"I can't help."}]}]}
            """
        let record = Self.record(#"{"model":"gpt-4.1","input":"x"}"#, body)
        #expect(record.stopReason == "content_filter")
        #expect(record.content == "I can't help.")
    }

    @Test func aFailedResponseIsAnError() {
        let body = #"{"status":"failed","error":{"code":"server_error","message":"Model crashed."},"output":[]}"#
        let record = Self.record(#"{"model":"gpt-4.1","input":"x"}"#, body)
        #expect(record.stopReason == "failed")
        #expect(record.errorDetail == "Model crashed.")
    }

    @Test func anErrorStatusKeepsTheProviderMessage() {
        let body = #"{"error":{"message":"Unsupported parameter: 'temperature'.","type":"invalid_request_error"}}"#
        let record = Self.record(#"{"model":"o3","input":"x","temperature":0}"#, body, status: 400)
        #expect(record.statusCode == 400)
        #expect(record.errorDetail == "Unsupported parameter: 'temperature'.")
    }
}
