/// The human-readable message of an upstream error body, in the shapes providers and gateways use.
enum UpstreamError {
    /// `{"error":{"message"}}` (OpenAI, Anthropic), `{"error":"..."}`; with `lenient`, also a top-level
    /// `message` or `detail`, which only an error status makes trustworthy.
    static func message(in body: JSONValue, lenient: Bool) -> String? {
        switch body["error"] {
        case .object(let error):
            return error["message"]?.stringValue ?? error["type"]?.stringValue ?? JSONWriter.text(of: .object(error))
        case .string(let message):
            return message
        default:
            break
        }
        if body["type"]?.stringValue == "error" { return body["message"]?.stringValue ?? "error" }
        guard lenient else { return nil }
        return body["message"]?.stringValue ?? body["detail"]?.stringValue
    }

    /// The start of a body that is not a recognisable error document.
    static func excerpt(of body: [UInt8], limit: Int = 300) -> String {
        String(String(decoding: body, as: UTF8.self).prefix(limit))
    }
}
