/// One tool call the mock asks for in the `tool_call` scenario.
struct MockToolCall: Sendable {
    let id: String
    let name: String
    /// The tool input as an object (Anthropic `input`).
    let input: MockJSON

    /// The tool input as a JSON string (OpenAI `function.arguments`).
    var arguments: String { input.text }

    /// The arguments cut in two, as a stream delivers them.
    var argumentPieces: [String] {
        let characters = Array(arguments)
        let middle = characters.count / 2
        return [String(characters[..<middle]), String(characters[middle...])]
    }

    /// The two parallel calls of the `tool_call` scenario; ids derive from the request digest.
    static func weatherAndTime(idPrefix: String, digest: String) -> [MockToolCall] {
        [
            MockToolCall(
                id: "\(idPrefix)\(digest)0",
                name: "get_weather",
                input: ["city": "Paris", "unit": "celsius"]
            ),
            MockToolCall(
                id: "\(idPrefix)\(digest)1",
                name: "get_time",
                input: ["timezone": "Europe/Paris"]
            ),
        ]
    }
}
