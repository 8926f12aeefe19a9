import LedgerProtocol
import Testing

@testable import Collector

/// Assembling OpenAI Responses API streams, whole, cut short and failed.
@Suite("OpenAI Responses API, streaming")
struct OpenAIResponsesStreamTests {
    static let request = #"{"model":"gpt-4.1","stream":true,"input":"Weather in Lisbon?"}"#

    static func event(_ type: String, _ members: String) -> (name: String?, data: String) {
        (type, #"{"type":"\#(type)",\#(members)}"#)
    }

    static let itemEvents = [
        event("response.created", #""response":{"id":"r","status":"in_progress","model":"gpt-4.1-2025","output":[]}"#),
        event("response.output_item.added", #""output_index":0,"item":{"type":"message","role":"assistant","content":[]}"#),
        event("response.output_text.delta", #""output_index":0,"content_index":0,"delta":"Let me ""#),
        event("response.output_text.delta", #""output_index":0,"content_index":0,"delta":"check.""#),
        event(
            "response.output_item.added",
            #""output_index":1,"item":{"type":"function_call","call_id":"call_1","name":"get_weather","arguments":""}"#),
        event("response.function_call_arguments.delta", #""output_index":1,"delta":"{\"city\":""#),
        event("response.function_call_arguments.delta", #""output_index":1,"delta":"\"Lisbon\"}""#),
    ]

    static let completed = event(
        "response.completed",
        #""response":{"status":"completed","model":"gpt-4.1-2025","output":[{"type":"message","content":[{"type":"output_text","text":"Let me check."}]},{"type":"function_call","call_id":"call_1","name":"get_weather","arguments":"{\"city\":\"Lisbon\"}"}],"usage":{"input_tokens":50,"output_tokens":20,"input_tokens_details":{"cached_tokens":0},"output_tokens_details":{"reasoning_tokens":4}}}"#
    )

    static func record(_ events: [(name: String?, data: String)], outcome: CallOutcome = .completed) -> CallRecord {
        CapturedCallFixture.record(
            CapturedCallFixture.call(
                path: "/v1/responses", request: request, response: CapturedCallFixture.sse(events),
                contentType: "text/event-stream", outcome: outcome,
                outcomeDetail: outcome == .completed ? nil : "client disconnected: EOF"))
    }

    @Test func aCompletedStreamReadsLikeTheWholeResponse() {
        let record = Self.record(Self.itemEvents + [Self.completed])
        #expect(record.stream)
        #expect(record.modelID == "gpt-4.1")
        #expect(record.content == "Let me check.")
        #expect(record.toolCalls == [ToolCall(id: "call_1", name: "get_weather", arguments: #"{"city":"Lisbon"}"#)])
        #expect(record.stopReason == "completed")
        #expect(record.tokensIn == 50)
        #expect(record.tokensOut == 20)
        #expect(record.tokensReasoning == 4)
        #expect(record.errorDetail == nil)
    }

    @Test func aStreamCutShortKeepsWhatArrived() {
        let record = Self.record(Self.itemEvents, outcome: .clientDisconnected)
        #expect(record.content == "Let me check.")
        #expect(record.toolCalls == [ToolCall(id: "call_1", name: "get_weather", arguments: #"{"city":"Lisbon"}"#)])
        #expect(record.stopReason == nil)
        #expect(record.tokensIn == nil)
        #expect(record.outcome == "client_disconnected")
        #expect(record.errorDetail == "client disconnected: EOF")
    }

    @Test func anErrorEventMidStreamIsTheErrorDetail() {
        let error = Self.event("error", #""code":"server_error","message":"Something broke.","param":null"#)
        let record = Self.record(Array(Self.itemEvents.prefix(3)) + [error])
        #expect(record.content == "Let me ")
        #expect(record.errorDetail == "Something broke.")
    }

    @Test func aFailedResponseKeepsTheAssembledTextAndItsError() {
        let failed = Self.event(
            "response.failed",
            #""response":{"status":"failed","error":{"code":"server_error","message":"Model crashed."},"output":[]}"#)
        let record = Self.record(Array(Self.itemEvents.prefix(4)) + [failed])
        #expect(record.content == "Let me check.")
        #expect(record.stopReason == "failed")
        #expect(record.errorDetail == "Model crashed.")
    }

    @Test func doneItemsAndTextDoneWinOverDeltas() {
        let events = [
            Self.event("response.output_text.delta", #""output_index":0,"content_index":0,"delta":"Hel""#),
            Self.event("response.output_text.done", #""output_index":0,"content_index":0,"text":"Hello""#),
            Self.event("response.refusal.delta", #""output_index":1,"content_index":0,"delta":"No.""#),
        ]
        #expect(Self.record(events).content == "Hello")
        #expect(Self.record(Array(events.suffix(1))).content == "No.")
    }
}
