import Foundation
import Testing

@testable import Collector

/// Linking each tool result of a session to the call that asked for it.
@Suite("Tool links")
struct ToolLinksTests {
    static func record(
        _ id: String, calls: [String] = [], results: [String?] = []
    ) -> CallRecord {
        var record = CallRecord(actionID: id, timestampMicros: 0)
        record.toolCalls = calls.isEmpty ? nil : calls.map { ToolCall(id: $0, name: "tool", arguments: "{}") }
        record.toolResults = results.isEmpty ? nil : results.map { ToolResult(toolCallID: $0, content: .string("ok")) }
        return record
    }

    @Test func eachResultPointsAtTheCallThatAskedForIt() {
        let linked = ToolLinks.link([
            Self.record("a1", calls: ["c1", "c2"]),
            Self.record("a2", calls: ["c3"], results: ["c1", "c2"]),
            Self.record("a3", results: ["c3", "unknown", nil]),
        ])
        #expect(linked[0].toolResults == nil)
        #expect(linked[1].toolResults?.map(\.requestedBy) == ["a1", "a1"])
        #expect(linked[2].toolResults?.map(\.requestedBy) == ["a2", nil, nil])
        #expect(linked.map(\.actionID) == ["a1", "a2", "a3"])
    }

    @Test func aReusedIDLinksToItsLatestEarlierAskerNeverToItself() {
        let linked = ToolLinks.link([
            Self.record("a1", calls: ["call_0"]),
            Self.record("a2", calls: ["call_0"], results: ["call_0"]),
            Self.record("a3", results: ["call_0"]),
        ])
        #expect(linked[1].toolResults?.first?.requestedBy == "a1")
        #expect(linked[2].toolResults?.first?.requestedBy == "a2")
    }

    @Test func requestedByIsInTheRecordJSON() throws {
        var record = Self.record("a2", results: ["c1"])
        record.toolResults?[0].requestedBy = "a1"
        let json = try JSONReader.parse(Array(JSONEncoder().encode(record)))
        #expect(json["tool_results"]?[0]?["requested_by"] == .string("a1"))
        let unlinked = try JSONReader.parse(Array(JSONEncoder().encode(Self.record("a3", results: ["c9"]))))
        #expect(unlinked["tool_results"]?[0]?["requested_by"] == .null)
        let decoded = try JSONDecoder().decode([ToolResult].self, from: Data(#"[{"tool_call_id":"c1","content":"x"}]"#.utf8))
        #expect(decoded == [ToolResult(toolCallID: "c1", content: .string("x"))])
    }
}
