import HTTPTypes
import Hummingbird

/// Builds Anthropic Messages answers (`POST /v1/messages`), plain and streamed with the real event sequence.
struct AnthropicMessagesResponder {
    let request: MockRequest
    let scenario: MockScenario
    let completion: MockCompletion

    init(request: MockRequest, scenario: MockScenario) {
        self.request = request
        self.scenario = scenario
        self.completion = MockCompletion(request: request, scenario: scenario, provider: .anthropic)
    }

    private var id: String { "msg_\(request.digest)" }
    private var stopReason: MockJSON { completion.toolCalls.isEmpty ? "end_turn" : "tool_use" }

    func response(delay: Duration) -> Response {
        guard request.stream else {
            return ProviderError.jsonResponse(
                status: 200, body: message, provider: .anthropic, requestID: "req_\(request.digest)")
        }
        var headers = HTTPFields()
        headers[HTTPField.Name("request-id")!] = "req_\(request.digest)"
        return EventStream(events: events, delay: delay, dropConnectionAfter: nil).response(headers: headers)
    }

    private var message: MockJSON {
        [
            "id": .string(id),
            "type": "message",
            "role": "assistant",
            "model": .string(request.model),
            "content": .array(contentBlocks),
            "stop_reason": stopReason,
            "stop_sequence": nil,
            "usage": usage(outputTokens: completion.completionTokens),
        ]
    }

    private var contentBlocks: [MockJSON] {
        var blocks: [MockJSON] = []
        if let text = completion.text {
            blocks.append(["type": "text", "text": .string(text)])
        }
        for call in completion.toolCalls {
            blocks.append(["type": "tool_use", "id": .string(call.id), "name": .string(call.name), "input": call.input])
        }
        return blocks
    }

    private func usage(outputTokens: Int) -> MockJSON {
        [
            "input_tokens": .int(completion.promptTokens),
            "cache_creation_input_tokens": .int(completion.cacheWriteTokens),
            "cache_read_input_tokens": .int(completion.cacheReadTokens),
            "output_tokens": .int(outputTokens),
        ]
    }

    private var events: [String] {
        let start: MockJSON = [
            "id": .string(id), "type": "message", "role": "assistant", "model": .string(request.model),
            "content": [], "stop_reason": nil, "stop_sequence": nil, "usage": usage(outputTokens: 1),
        ]
        var events = [EventStream.event("message_start", ["type": "message_start", "message": start])]
        var index = 0
        if let text = completion.text {
            events.append(blockStart(index: index, block: ["type": "text", "text": ""]))
            if scenario == .midstreamError {
                events.append(EventStream.event("error", ProviderError.anthropicOverloaded))
                return events
            }
            events.append(EventStream.event("ping", ["type": "ping"]))
            let pieces = completion.textPieces.isEmpty ? [text] : completion.textPieces
            for piece in pieces {
                events.append(blockDelta(index: index, delta: ["type": "text_delta", "text": .string(piece)]))
            }
            events.append(blockStop(index: index))
            index += 1
        }
        for call in completion.toolCalls {
            events.append(
                blockStart(
                    index: index, block: ["type": "tool_use", "id": .string(call.id), "name": .string(call.name), "input": [:]])
            )
            for piece in call.argumentPieces {
                events.append(blockDelta(index: index, delta: ["type": "input_json_delta", "partial_json": .string(piece)]))
            }
            events.append(blockStop(index: index))
            index += 1
        }
        events.append(
            EventStream.event(
                "message_delta",
                [
                    "type": "message_delta", "delta": ["stop_reason": stopReason, "stop_sequence": nil],
                    "usage": ["output_tokens": .int(completion.completionTokens)],
                ]
            )
        )
        events.append(EventStream.event("message_stop", ["type": "message_stop"]))
        return events
    }

    private func blockStart(index: Int, block: MockJSON) -> String {
        EventStream.event("content_block_start", ["type": "content_block_start", "index": .int(index), "content_block": block])
    }

    private func blockDelta(index: Int, delta: MockJSON) -> String {
        EventStream.event("content_block_delta", ["type": "content_block_delta", "index": .int(index), "delta": delta])
    }

    private func blockStop(index: Int) -> String {
        EventStream.event("content_block_stop", ["type": "content_block_stop", "index": .int(index)])
    }
}
