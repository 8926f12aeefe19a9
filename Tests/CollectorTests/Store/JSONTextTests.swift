import Testing

@testable import Collector

@Suite struct JSONTextTests {
    @Test func escapedNULIsFoundButAnEscapedBackslashIsNot() {
        #expect(JSONText.containsEscapedNUL(#"{"a":"x\u0000y"}"#))
        #expect(!JSONText.containsEscapedNUL(#"{"a":"x\\u0000y"}"#))
        #expect(JSONText.containsEscapedNUL(#"{"a":"\\\u0000"}"#))
        #expect(!JSONText.containsEscapedNUL(#"{"a":"plain"}"#))
        #expect(!JSONText.containsEscapedNUL(""))
    }

    @Test func toolCallsAndResultsRoundTrip() throws {
        let calls = [
            ToolCall(id: "c1", name: "get_weather", arguments: #"{"city":"Paris"}"#), ToolCall(id: nil, name: nil, arguments: ""),
        ]
        #expect(try JSONText.decode([ToolCall].self, JSONText.encode(calls)) == calls)
        let results = [
            ToolResult(toolCallID: "c1", content: .array([.object(["type": .string("text"), "text": .string("18°C\n")])]))
        ]
        #expect(try JSONText.decode([ToolResult].self, JSONText.encode(results)) == results)
        let messages: [JSONValue] = [
            .object(["role": .string("user"), "content": .string("a \u{0} b"), "n": .int(3), "x": .double(0.5)])
        ]
        #expect(try JSONText.decode([JSONValue].self, JSONText.encode(messages)) == messages)
    }
}
