import Foundation

/// JSON text for the stores' JSON columns. The values the ingest path writes (messages, tools, tool calls,
/// tool results) go through `JSONWriter`, several times faster than `JSONEncoder`; reads decode with `JSONDecoder`.
enum JSONText {
    static func encode(_ value: JSONValue) -> String { JSONWriter.text(of: value) }

    static func encode(_ values: [JSONValue]) -> String { JSONWriter.text(of: .array(values)) }

    static func encode(_ calls: [ToolCall]) -> String {
        JSONWriter.text(
            of: .array(
                calls.map { call in
                    .object([
                        "id": call.id.map(JSONValue.string) ?? .null, "name": call.name.map(JSONValue.string) ?? .null,
                        "arguments": .string(call.arguments),
                    ])
                }))
    }

    static func encode(_ results: [ToolResult]) -> String {
        JSONWriter.text(
            of: .array(
                results.map { result in
                    .object(["tool_call_id": result.toolCallID.map(JSONValue.string) ?? .null, "content": result.content])
                }))
    }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        try JSONDecoder().decode(type, from: Data(text.utf8))
    }

    /// Whether the JSON text holds an escaped NUL (`\u0000`), found without Foundation's string search.
    static func containsEscapedNUL(_ text: String) -> Bool {
        let pattern = Array(#"\u0000"#.utf8)
        var utf8 = text.utf8[...]
        while let backslash = utf8.firstIndex(of: UInt8(ascii: "\\")) {
            let rest = utf8[backslash...]
            if rest.starts(with: pattern) { return true }
            // Skip an escaped backslash whole, so `\\u0000` (a backslash, then "u0000") is not taken for NUL.
            let next = rest.dropFirst()
            utf8 = next.first == UInt8(ascii: "\\") ? next.dropFirst() : next
        }
        return false
    }
}
