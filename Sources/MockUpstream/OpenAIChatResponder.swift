import HTTPTypes
import Hummingbird

/// Builds OpenAI Chat Completions answers (`POST /v1/chat/completions`), plain and streamed.
struct OpenAIChatResponder {
    let request: MockRequest
    let scenario: MockScenario
    let completion: MockCompletion

    init(request: MockRequest, scenario: MockScenario) {
        self.request = request
        self.scenario = scenario
        self.completion = MockCompletion(request: request, scenario: scenario, provider: .openAI)
    }

    private var id: String { "chatcmpl-\(request.digest)" }
    private var finishReason: MockJSON { completion.toolCalls.isEmpty ? "stop" : "tool_calls" }

    func response(delay: Duration) -> Response {
        guard request.stream else {
            return ProviderError.jsonResponse(status: 200, body: message, provider: .openAI, requestID: "req_\(request.digest)")
        }
        let stream = EventStream(
            events: events,
            delay: delay,
            dropConnectionAfter: scenario == .midstreamError ? 2 : nil
        )
        var headers = HTTPFields()
        headers[HTTPField.Name("x-request-id")!] = "req_\(request.digest)"
        return stream.response(headers: headers)
    }

    private var message: MockJSON {
        var message: [(String, MockJSON)] = [
            ("role", "assistant"), ("content", .optional(completion.text)), ("refusal", nil),
        ]
        if !completion.toolCalls.isEmpty {
            message.append(("tool_calls", .array(completion.toolCalls.map(Self.toolCall))))
        }
        return [
            "id": .string(id),
            "object": "chat.completion",
            "created": .int(MockCompletion.created),
            "model": .string(request.model),
            "choices": [["index": 0, "message": .object(message), "logprobs": nil, "finish_reason": finishReason]],
            "usage": usage,
            "system_fingerprint": "fp_mock",
        ]
    }

    private var usage: MockJSON {
        [
            "prompt_tokens": .int(completion.promptTokens),
            "completion_tokens": .int(completion.completionTokens),
            "total_tokens": .int(completion.promptTokens + completion.completionTokens),
            "prompt_tokens_details": ["cached_tokens": .int(completion.cacheReadTokens)],
            "completion_tokens_details": ["reasoning_tokens": .int(completion.reasoningTokens)],
        ]
    }

    private var events: [String] {
        var deltas: [MockJSON] = []
        if completion.toolCalls.isEmpty {
            deltas.append(["role": "assistant", "content": "", "refusal": nil])
            deltas += completion.textPieces.map { ["content": .string($0)] }
        } else {
            deltas.append(["role": "assistant", "content": nil, "refusal": nil])
            for (index, call) in completion.toolCalls.enumerated() {
                deltas.append(["tool_calls": [Self.toolCallStart(call, index: index)]])
                for piece in call.argumentPieces {
                    deltas.append(["tool_calls": [["index": .int(index), "function": ["arguments": .string(piece)]]]])
                }
            }
        }
        var events = deltas.map { EventStream.data(chunk(choices: [choice(delta: $0, finishReason: nil)])) }
        events.append(EventStream.data(chunk(choices: [choice(delta: [:], finishReason: finishReason)])))
        if request.includeUsage {
            events.append(EventStream.data(chunk(choices: [], usage: usage)))
        }
        events.append("data: [DONE]\n\n")
        return events
    }

    private func chunk(choices: [MockJSON], usage: MockJSON? = nil) -> MockJSON {
        var members: [(String, MockJSON)] = [
            ("id", .string(id)), ("object", "chat.completion.chunk"), ("created", .int(MockCompletion.created)),
            ("model", .string(request.model)), ("system_fingerprint", "fp_mock"), ("choices", .array(choices)),
        ]
        if let usage {
            members.append(("usage", usage))
        }
        return .object(members)
    }

    private func choice(delta: MockJSON, finishReason: MockJSON) -> MockJSON {
        ["index": 0, "delta": delta, "logprobs": nil, "finish_reason": finishReason]
    }

    private static func toolCall(_ call: MockToolCall) -> MockJSON {
        [
            "id": .string(call.id), "type": "function",
            "function": ["name": .string(call.name), "arguments": .string(call.arguments)],
        ]
    }

    private static func toolCallStart(_ call: MockToolCall, index: Int) -> MockJSON {
        [
            "index": .int(index), "id": .string(call.id), "type": "function",
            "function": ["name": .string(call.name), "arguments": ""],
        ]
    }
}
