/// The OpenAI Responses API (`/v1/responses`), read only as far as model, settings and stream flag for now:
/// its input items and output parsing are still to come, so responses and streams yield nothing yet.
enum OpenAIResponsesAdapter: ProviderAdapter {
    static func readRequest(_ body: JSONValue, into record: inout CallRecord) {
        record.modelID = body["model"]?.stringValue
        record.temperature = body["temperature"]?.doubleValue
        record.maxTokens = body["max_output_tokens"]?.intValue
        record.stream = body["stream"]?.boolValue ?? false
    }

    static func readResponse(_ body: JSONValue) -> ResponseReading {
        ResponseReading()
    }

    static func readStream(_ events: [SSEEvent]) -> ResponseReading {
        ResponseReading()
    }
}
