import LedgerProtocol
import Testing

@testable import Collector

/// What every record gets whatever the provider: envelope, routing, errors, outcomes.
@Suite("Normalizer: envelope, routing, errors and outcomes")
struct NormalizerTests {
    static let openAIRequest = #"{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}"#
    static let anthropicRequest =
        #"{"model":"claude-sonnet-4-20250514","max_tokens":100,"messages":[{"role":"user","content":"hi"}]}"#
    static let okResponse = """
        {"model":"gpt-4o","choices":[{"index":0,"message":{"content":"hello"},"finish_reason":"stop"}],
         "usage":{"prompt_tokens":10,"completion_tokens":2}}
        """

    @Test func envelopeFieldsAreCopied() {
        let metadata = CallMetadata(
            sessionID: "run-1", userID: "u-7", agentName: "researcher", appID: "travel", parentActionID: "p-1",
            handoffFrom: "orchestrator", handoffTo: "writer")
        let record = CapturedCallFixture.record(
            CapturedCallFixture.call(request: Self.openAIRequest, response: Self.okResponse, metadata: metadata))
        #expect(record.actionID == "0193a5b0-0000-7000-8000-000000000001")
        #expect(record.timestampMicros == 1_790_000_000_000_000)
        #expect(record.sessionID == "run-1")
        #expect(record.userID == "u-7")
        #expect(record.agentName == "researcher")
        #expect(record.appID == "travel")
        #expect(record.parentActionID == "p-1")
        #expect(record.environment == "development")
        #expect(record.handoffFrom == "orchestrator")
        #expect(record.handoffTo == "writer")
        #expect(record.source == "agent-pod-1")
        #expect(record.statusCode == 200)
        #expect(record.latencyMS == 1234.567)
        #expect(record.ttftMS == nil)
        #expect(record.blocked == false)
        #expect(record.outcome == "completed")
        #expect(record.content == "hello")
    }

    @Test func environmentHeaderWinsOverTheDefault() {
        let call = CapturedCallFixture.call(
            request: Self.openAIRequest, response: Self.okResponse, metadata: CallMetadata(environment: "production"))
        #expect(CapturedCallFixture.record(call).environment == "production")
    }

    @Test(arguments: [
        ("/v1/messages", "anthropic"),
        ("/v1/messages?beta=true", "anthropic"),
        ("/v1/messages/", "anthropic"),
        ("/proxy/anthropic/v1/messages", "anthropic"),
        ("/v1/chat/completions", "openai"),
        ("/v1/chat/completions?note=messages", "openai"),
        ("/messages-archive/v1/chat/completions", "openai"),
        ("/v1/threads/messages/chat/completions", "openai"),
        ("/v1/responses", "openai"),
    ])
    func providerComesFromThePathEnd(path: String, provider: String) {
        let record = CapturedCallFixture.record(CapturedCallFixture.call(path: path, request: "{}", response: "{}"))
        #expect(record.provider == provider)
    }

    @Test func aResponsesStreamCutAfterItsFirstEventKeepsTheRequest() {
        let request = #"{"model":"gpt-5","input":"hello","stream":true,"max_output_tokens":300}"#
        let body = "event: response.created\ndata: {\"type\":\"response.created\"}\n\n"
        let record = CapturedCallFixture.record(
            CapturedCallFixture.call(
                path: "/v1/responses", request: request, response: body, contentType: "text/event-stream"))
        #expect(record.provider == "openai")
        #expect(record.modelID == "gpt-5")
        #expect(record.messages == [.object(["role": .string("user"), "content": .string("hello")])])
        #expect(record.stream)
        #expect(record.maxTokens == 300)
        #expect(record.statusCode == 200)
        #expect(record.content == nil)
        #expect(record.errorDetail == nil)
    }

    @Test func openAIErrorBody() {
        let body = """
            {"error":{"message":"Invalid value for 'messages[0].role'.","type":"invalid_request_error","param":"messages","code":null}}
            """
        let record = CapturedCallFixture.record(
            CapturedCallFixture.call(request: Self.openAIRequest, response: body, status: 400))
        #expect(record.statusCode == 400)
        #expect(record.modelID == "gpt-4o")
        #expect(record.content == nil)
        #expect(record.errorDetail == "Invalid value for 'messages[0].role'.")
        #expect(record.costUSD == nil)
    }

    @Test func anthropicErrorBody() {
        let body =
            #"{"type":"error","error":{"type":"api_error","message":"Internal server error"},"request_id":"req_1"}"#
        let record = CapturedCallFixture.record(
            CapturedCallFixture.call(path: "/v1/messages", request: Self.anthropicRequest, response: body, status: 500))
        #expect(record.statusCode == 500)
        #expect(record.errorDetail == "Internal server error")
        #expect(record.content == nil)
    }

    @Test func anErrorOnAStreamRequestIsReadAsJSON() {
        let request = #"{"model":"gpt-4o","stream":true,"messages":[]}"#
        let body = #"{"error":{"message":"Rate limit reached for gpt-4o","type":"requests"}}"#
        let record = CapturedCallFixture.record(CapturedCallFixture.call(request: request, response: body, status: 429))
        #expect(record.stream)
        #expect(record.errorDetail == "Rate limit reached for gpt-4o")
    }

    @Test func nonJSONErrorBodyKeepsItsFirst300Characters() {
        let html = "<html><head><title>502 Bad Gateway</title></head><body>" + String(repeating: "x", count: 500)
        let record = CapturedCallFixture.record(
            CapturedCallFixture.call(request: Self.openAIRequest, response: html, status: 502, contentType: "text/html")
        )
        #expect(record.errorDetail == String(html.prefix(300)))
    }

    @Test func emptyErrorBodySaysSo() {
        let record = CapturedCallFixture.record(
            CapturedCallFixture.call(request: Self.openAIRequest, response: "", status: 503))
        #expect(record.errorDetail == "upstream returned HTTP 503 with an empty body")
    }

    @Test func unparseableSuccessKeepsTheRequestSide() throws {
        let record = CapturedCallFixture.record(
            CapturedCallFixture.call(request: Self.openAIRequest, response: #"{"id":"chatcmpl-1","choi"#))
        #expect(record.modelID == "gpt-4o")
        #expect(record.messages.count == 1)
        #expect(record.content == nil)
        let detail = try #require(record.errorDetail)
        #expect(detail.hasPrefix("unparseable upstream response: "))
    }

    @Test func malformedRequestStillGivesARecord() throws {
        let record = CapturedCallFixture.record(
            CapturedCallFixture.call(
                request: #"{"model": "gpt-4o", "messages": [{"role": "user""#, response: Self.okResponse))
        #expect(record.modelID == "gpt-4o")
        #expect(record.messages.isEmpty)
        #expect(record.content == "hello")
        #expect(CapturedCallFixture.same(record.costUSD, 0.000045))
        let detail = try #require(record.errorDetail)
        #expect(detail.hasPrefix("unparseable request body: "))

        let rejected = CapturedCallFixture.record(
            CapturedCallFixture.call(
                request: "not json", response: #"{"error":{"message":"We could not parse the JSON body."}}"#,
                status: 400))
        #expect(rejected.modelID == nil)
        #expect(rejected.errorDetail?.contains("We could not parse the JSON body.") == true)
    }

    @Test func hostileNestingDoesNotCrash() {
        let deep = String(repeating: "[", count: 100_000)
        let record = CapturedCallFixture.record(CapturedCallFixture.call(request: deep, response: deep))
        #expect(record.errorDetail?.contains("nesting deeper than 512") == true)
    }

    @Test func encodedBodiesAreNotParsed() {
        let call = CapturedCallFixture.call(
            request: Self.openAIRequest, response: "\u{1F}\u{8B}\u{08}binary",
            responseHeaders: [HeaderField("Content-Encoding", "gzip")])
        let record = CapturedCallFixture.record(call)
        #expect(record.modelID == "gpt-4o")
        #expect(record.statusCode == 200)
        #expect(record.content == nil)
        #expect(record.errorDetail == "response body is gzip-encoded; not parsed")

        let identity = CapturedCallFixture.call(
            request: Self.openAIRequest, response: Self.okResponse,
            responseHeaders: [HeaderField("content-encoding", "identity")])
        #expect(CapturedCallFixture.record(identity).content == "hello")
    }

    @Test func unreachableUpstreamHasNoStatus() {
        let call = CapturedCallFixture.call(
            request: Self.openAIRequest, status: nil, contentType: nil, outcome: .upstreamUnreachable,
            outcomeDetail: "upstream unreachable: connection refused", firstByteMicros: nil, completedMicros: 3_000)
        let record = CapturedCallFixture.record(call)
        #expect(record.statusCode == nil)
        #expect(record.outcome == "upstream_unreachable")
        #expect(record.errorDetail == "upstream unreachable: connection refused")
        #expect(record.latencyMS == 3)
        #expect(record.modelID == "gpt-4o")
    }

    @Test func refusedCallsAreBlocked() {
        let body = #"{"error":{"type":"budget_exceeded","message":"Daily budget of $5.0000 exceeded"}}"#
        let call = CapturedCallFixture.call(
            request: Self.openAIRequest, response: body, status: 429, outcome: .refused,
            outcomeDetail: "Daily budget of $5.0000 exceeded")
        let record = CapturedCallFixture.record(call)
        #expect(record.blocked)
        #expect(record.outcome == "refused")
        #expect(record.errorDetail == "Daily budget of $5.0000 exceeded")
    }

    @Test func anOutcomeWithoutDetailIsNamed() {
        let call = CapturedCallFixture.call(
            request: Self.openAIRequest, response: #"{"id":"x","#, outcome: .upstreamFailed)
        let record = CapturedCallFixture.record(call)
        #expect(record.outcome == "upstream_failed")
        #expect(record.errorDetail?.hasPrefix("upstream failed; unparseable upstream response: ") == true)
    }

    @Test func anErrorInsideA200BodyIsRecorded() {
        let body = #"{"error":{"message":"Provider returned error","code":502}}"#
        let record = CapturedCallFixture.record(CapturedCallFixture.call(request: Self.openAIRequest, response: body))
        #expect(record.errorDetail == "Provider returned error")
        #expect(record.content == nil)
    }
}
