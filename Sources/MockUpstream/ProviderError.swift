import HTTPTypes
import Hummingbird

/// Error answers in each provider's real JSON shape.
enum ProviderError {
    /// The answer of an `error_*` scenario.
    static func scenarioResponse(status: Int, provider: MockProvider, requestID: String) -> Response {
        let (kind, message): (String, String)
        switch (provider.family, status) {
        case (.openAI, 400):
            (kind, message) = ("invalid_request_error", "Invalid value for 'messages': mock scenario error_400.")
        case (.openAI, 429):
            (kind, message) = ("requests", "Rate limit reached for requests (mock scenario error_429).")
        case (.openAI, _), (.openAIResponses, _):
            (kind, message) = ("server_error", "The server had an error while processing your request (mock scenario error_500).")
        case (.anthropic, 400):
            (kind, message) = ("invalid_request_error", "messages: mock scenario error_400.")
        case (.anthropic, 429):
            (kind, message) = ("rate_limit_error", "Number of requests has exceeded your rate limit (mock scenario error_429).")
        case (.anthropic, _):
            (kind, message) = ("api_error", "Internal server error (mock scenario error_500).")
        }
        var response = jsonResponse(
            status: status,
            body: body(provider: provider, kind: kind, message: message, code: status == 429 ? "rate_limit_exceeded" : nil),
            provider: provider,
            requestID: requestID
        )
        if status == 429 {
            response.headers[.retryAfter] = "1"
        }
        return response
    }

    /// The 400 answer to a body that is not a JSON object.
    static func unparseableBody(provider: MockProvider, requestID: String) -> Response {
        let message = "We could not parse the JSON body of your request. The mock upstream expects a JSON object."
        return jsonResponse(
            status: 400,
            body: body(provider: provider, kind: "invalid_request_error", message: message, code: nil),
            provider: provider,
            requestID: requestID
        )
    }

    /// The payload of an Anthropic `event: error` sent in the middle of a stream.
    static let anthropicOverloaded: MockJSON = [
        "type": "error", "error": ["type": "overloaded_error", "message": "Overloaded (mock scenario midstream_error)."],
    ]

    private static func body(provider: MockProvider, kind: String, message: String, code: String?) -> MockJSON {
        switch provider.family {
        case .openAI, .openAIResponses:
            ["error": ["message": .string(message), "type": .string(kind), "param": nil, "code": .optional(code)]]
        case .anthropic:
            ["type": "error", "error": ["type": .string(kind), "message": .string(message)]]
        }
    }

    /// A JSON answer with the provider's request-id header.
    static func jsonResponse(status: Int, body: MockJSON, provider: MockProvider, requestID: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        if let name = HTTPField.Name(provider.requestIDHeader) {
            headers[name] = requestID
        }
        return Response(
            status: HTTPResponse.Status(code: status),
            headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(string: body.text))
        )
    }
}
