import HTTPTypes
import Hummingbird

/// Builds OpenAI Responses API answers (`POST /v1/responses`), plain and streamed with the real event sequence.
///
/// `tool_call` answers with two `function_call` items, `reasoning` adds a reasoning item and reasoning tokens,
/// `midstream_error` streams the first text delta and then an `error` event.
struct OpenAIResponsesResponder {
    let request: MockRequest
    let scenario: MockScenario
    let completion: MockCompletion

    init(request: MockRequest, scenario: MockScenario) {
        self.request = request
        self.scenario = scenario
        self.completion = MockCompletion(request: request, scenario: scenario, provider: .openAIResponses)
    }

    private var id: String { "resp_\(request.digest)" }
    private var messageID: String { "msg_\(request.digest)" }

    func response(delay: Duration) -> Response {
        guard request.stream else {
            return ProviderError.jsonResponse(
                status: 200, body: body(status: "completed", output: outputItems, usage: usage),
                provider: .openAIResponses, requestID: "req_\(request.digest)")
        }
        var headers = HTTPFields()
        headers[HTTPField.Name("x-request-id")!] = "req_\(request.digest)"
        return EventStream(events: events, delay: delay, dropConnectionAfter: nil).response(headers: headers)
    }

    /// The response object with `status`: `in_progress` in a stream's first events, then `completed`.
    private func body(status: String, output: [MockJSON], usage: MockJSON) -> MockJSON {
        [
            "id": .string(id), "object": "response", "created_at": .int(MockCompletion.created),
            "status": .string(status), "error": nil, "incomplete_details": nil,
            "instructions": nil, "max_output_tokens": nil, "model": .string(request.model), "output": .array(output),
            "parallel_tool_calls": true, "previous_response_id": nil,
            "reasoning": ["effort": nil, "summary": nil], "store": true, "temperature": 1,
            "text": ["format": ["type": "text"]], "tool_choice": "auto", "tools": [], "top_p": 1,
            "truncation": "disabled", "usage": usage, "user": nil, "metadata": [:],
        ]
    }

    private var usage: MockJSON {
        [
            "input_tokens": .int(completion.promptTokens),
            "input_tokens_details": ["cached_tokens": .int(completion.cacheReadTokens)],
            "output_tokens": .int(completion.completionTokens),
            "output_tokens_details": ["reasoning_tokens": .int(completion.reasoningTokens)],
            "total_tokens": .int(completion.promptTokens + completion.completionTokens),
        ]
    }

    private var reasoningItem: MockJSON? {
        scenario == .reasoning ? ["id": .string("rs_\(request.digest)"), "type": "reasoning", "summary": []] : nil
    }

    private var outputItems: [MockJSON] {
        var items: [MockJSON] = reasoningItem.map { [$0] } ?? []
        if let text = completion.text { items.append(message(text: text, status: "completed")) }
        for (index, call) in completion.toolCalls.enumerated() {
            items.append(functionCall(call, index: index, arguments: call.arguments, status: "completed"))
        }
        return items
    }

    private func message(text: String?, status: String) -> MockJSON {
        let content: [MockJSON] = text.map { [["type": "output_text", "annotations": [], "text": .string($0)]] } ?? []
        return [
            "id": .string(messageID), "type": "message", "status": .string(status), "role": "assistant",
            "content": .array(content),
        ]
    }

    private func functionCall(_ call: MockToolCall, index: Int, arguments: String, status: String) -> MockJSON {
        [
            "id": .string("fc_\(request.digest)\(index)"), "type": "function_call", "status": .string(status),
            "arguments": .string(arguments), "call_id": .string(call.id), "name": .string(call.name),
        ]
    }

    private var events: [String] {
        var events: [String] = []
        func add(_ type: String, _ members: [(String, MockJSON)]) {
            let payload: [(String, MockJSON)] = [("type", .string(type)), ("sequence_number", .int(events.count))]
            events.append(EventStream.event(type, .object(payload + members)))
        }
        let started = body(status: "in_progress", output: [], usage: nil)
        add("response.created", [("response", started)])
        add("response.in_progress", [("response", started)])
        var index = 0
        if let reasoning = reasoningItem {
            add("response.output_item.added", [("output_index", .int(index)), ("item", reasoning)])
            add("response.output_item.done", [("output_index", .int(index)), ("item", reasoning)])
            index += 1
        }
        if let text = completion.text {
            let location: [(String, MockJSON)] = [
                ("item_id", .string(messageID)), ("output_index", .int(index)), ("content_index", 0),
            ]
            add(
                "response.output_item.added",
                [("output_index", .int(index)), ("item", message(text: nil, status: "in_progress"))])
            add("response.content_part.added", location + [("part", ["type": "output_text", "annotations": [], "text": ""])])
            for piece in completion.textPieces {
                add("response.output_text.delta", location + [("delta", .string(piece))])
                if scenario == .midstreamError {
                    add(
                        "error",
                        [
                            ("code", "server_error"), ("message", "The server had an error (mock scenario midstream_error)."),
                            ("param", nil),
                        ])
                    return events
                }
            }
            add("response.output_text.done", location + [("text", .string(text))])
            add(
                "response.content_part.done",
                location + [("part", ["type": "output_text", "annotations": [], "text": .string(text)])])
            add("response.output_item.done", [("output_index", .int(index)), ("item", message(text: text, status: "completed"))])
            index += 1
        }
        for (callIndex, call) in completion.toolCalls.enumerated() {
            let itemID = MockJSON.string("fc_\(request.digest)\(callIndex)")
            let location: [(String, MockJSON)] = [("item_id", itemID), ("output_index", .int(index))]
            add(
                "response.output_item.added",
                [
                    ("output_index", .int(index)),
                    ("item", functionCall(call, index: callIndex, arguments: "", status: "in_progress")),
                ])
            for piece in call.argumentPieces {
                add("response.function_call_arguments.delta", location + [("delta", .string(piece))])
            }
            add("response.function_call_arguments.done", location + [("arguments", .string(call.arguments))])
            add(
                "response.output_item.done",
                [
                    ("output_index", .int(index)),
                    ("item", functionCall(call, index: callIndex, arguments: call.arguments, status: "completed")),
                ])
            index += 1
        }
        add("response.completed", [("response", body(status: "completed", output: outputItems, usage: usage))])
        return events
    }
}
