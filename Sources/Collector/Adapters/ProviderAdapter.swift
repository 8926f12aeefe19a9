/// One wire format's reading rules: request fields, a whole JSON response, a captured SSE stream.
/// Readers never throw; what is missing or malformed stays nil.
protocol ProviderAdapter {
    /// Fills the request-side fields: model, messages, system prompt, tools, tool results, settings, stream flag.
    static func readRequest(_ body: JSONValue, into record: inout CallRecord)
    /// Reads a successful (2xx) JSON response body.
    static func readResponse(_ body: JSONValue) -> ResponseReading
    /// Assembles a streamed response from its events; a stream cut short gives what arrived.
    static func readStream(_ events: [SSEEvent]) -> ResponseReading
}

/// What an adapter read from a response body or stream, before it is merged into the record and priced.
struct ResponseReading: Sendable, Equatable {
    /// The model the upstream says answered.
    var model: String?
    var content: String?
    var toolCalls: [ToolCall] = []
    var stopReason: String?
    var usage: TokenUsage?
    /// The processing tier the upstream says served the call (OpenAI's `service_tier`: `default`, `flex`,
    /// `priority`, `scale`), which picks the rates where the price list has tier rates.
    var serviceTier: String?
    /// An error the upstream reported inside a 2xx body or in the middle of a stream.
    var errorMessage: String?
}
