import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// A scriptable LLM upstream (OpenAI chat and responses, Anthropic messages) for tests, benchmarks and the demo.
///
/// Answers are deterministic: the same request gives the same bytes, with ids derived from the request and a
/// fixed `created` time. The request header `x-mock-scenario` selects a behaviour (see `MockScenario`) and
/// `x-mock-delay-ms` spaces stream events.
package enum MockUpstream {
    static let lastRequestPath = "/debug/last-request"
    static let maxBodyBytes = 64 * 1024 * 1024

    /// Builds the mock's application listening on `host:port`; port 0 picks a free port, logged at start.
    package static func makeApplication(host: String, port: Int, logger: Logger?) -> some ApplicationProtocol {
        let log = logger ?? Logger(label: "agentledger.mock-upstream")
        return Application(
            router: makeRouter(),
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { channel in
                let bound = channel.localAddress?.port ?? port
                log.info("mock upstream listening on http://\(host):\(bound)")
            },
            logger: log
        )
    }

    /// The mock's routes, for tests that run it in process.
    package static func makeRouter() -> Router<BasicRequestContext> {
        let store = LastRequestStore()
        let router = Router(context: BasicRequestContext.self)
        router.middlewares.add(LastRequestMiddleware(store: store))
        router.post("/v1/chat/completions") { request, _ in
            try await chat(request, provider: .openAI)
        }
        router.post("/v1/messages") { request, _ in
            try await chat(request, provider: .anthropic)
        }
        router.post("/v1/responses") { request, _ in
            try await chat(request, provider: .openAIResponses)
        }
        router.get("/v1/models") { _, _ in
            ProviderError.jsonResponse(status: 200, body: models, provider: .openAI, requestID: "req_models")
        }
        router.post("/v1/echo") { request, _ in
            var request = request
            let body = try await request.collectBody(upTo: maxBodyBytes)
            var headers = HTTPFields()
            headers[.contentType] = request.headers[.contentType] ?? "application/octet-stream"
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: body))
        }
        router.get(RouterPath(lastRequestPath)) { _, _ in
            ProviderError.jsonResponse(status: 200, body: await store.snapshot(), provider: .openAI, requestID: "req_debug")
        }
        return router
    }

    private static func chat(_ request: Request, provider: MockProvider) async throws -> Response {
        var request = request
        let body = try await request.collectBody(upTo: maxBodyBytes)
        let bytes = Array(body.readableBytesView)
        let scenario = MockScenario(headerValue: request.headers[HTTPField.Name("x-mock-scenario")!])
        let delay = scenario.eventDelay(headerValue: request.headers[HTTPField.Name("x-mock-delay-ms")!])
        let fallbackID = "req_" + MockRequest.hexDigest(String(decoding: bytes, as: UTF8.self))

        if let status = scenario.errorStatus {
            return ProviderError.scenarioResponse(status: status, provider: provider, requestID: fallbackID)
        }
        guard let parsed = MockRequest(body: bytes, provider: provider, scenario: scenario) else {
            return ProviderError.unparseableBody(provider: provider, requestID: fallbackID)
        }
        if scenario == .malformed {
            var headers = HTTPFields()
            headers[.contentType] = "application/json"
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: "this is not json")))
        }
        if scenario == .truncatedBody {
            return truncated(requestID: fallbackID)
        }
        switch provider {
        case .openAI:
            return OpenAIChatResponder(request: parsed, scenario: scenario).response(delay: delay)
        case .anthropic:
            return AnthropicMessagesResponder(request: parsed, scenario: scenario).response(delay: delay)
        case .openAIResponses:
            return OpenAIResponsesResponder(request: parsed, scenario: scenario).response(delay: delay)
        }
    }

    /// A chat completion whose `content-length` promises the whole JSON but whose connection drops halfway.
    private static func truncated(requestID: String) -> Response {
        let whole = ByteBuffer(
            string: #"{"id":"chatcmpl-truncated","object":"chat.completion","created":1700000000,"model":"gpt-4o-mini","#
                + #""choices":[{"index":0,"message":{"role":"assistant","content":"cut short"},"finish_reason":"stop"}]}"#)
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[HTTPField.Name("x-request-id")!] = requestID
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody(contentLength: whole.readableBytes) { writer in
                try await writer.write(whole.getSlice(at: whole.readerIndex, length: whole.readableBytes / 2)!)
                throw TruncatedBody()
            })
    }

    /// Ends a `truncated_body` answer: Hummingbird closes the connection when a body writer throws.
    private struct TruncatedBody: Error {}

    private static let models: MockJSON = [
        "object": "list",
        "data": [
            ["id": "gpt-4o-mini", "object": "model", "created": 1_700_000_000, "owned_by": "system"],
            ["id": "gpt-4o", "object": "model", "created": 1_700_000_000, "owned_by": "system"],
            ["id": "claude-sonnet-4-5", "object": "model", "created": 1_700_000_000, "owned_by": "anthropic"],
        ],
    ]
}
