import Foundation
import Testing

@testable import Collector

/// The direct JSON writer and `Encodable` must give the same document, or the API would change shape by endpoint.
@Suite struct CallRecordJSONTextTests {
    static var full: CallRecord {
        var record = CallRecord(actionID: "act-1", timestampMicros: 1_741_082_400_123_456)
        record.sessionID = "run-1"
        record.modelID = "gpt-4o"
        record.provider = "openai"
        record.messages = [
            .object(["role": .string("system"), "content": .string("Be \"brief\"\n\u{1}")]),
            .object(["role": .string("user"), "content": .array([.object(["type": .string("text"), "text": .string("東京 🦙")])])]),
        ]
        record.systemPrompt = "Be \"brief\""
        record.tools = .array([.object(["type": .string("function"), "parameters": .object(["n": .int(3), "x": .double(0.5)])])])
        record.toolCalls = [ToolCall(id: "call_1", name: "get_weather", arguments: #"{"city":"Paris"}"#)]
        var result = ToolResult(toolCallID: "call_0", content: .string("18°C"))
        result.requestedBy = "act-0"
        record.toolResults = [result, ToolResult(toolCallID: nil, content: .null)]
        record.content = "Done."
        record.stopReason = "tool_calls"
        record.tokensIn = 1200
        record.tokensOut = 34
        record.tokensCacheRead = 1024
        record.tokensCacheWrite = 0
        record.tokensReasoning = 12
        record.costUSD = 0.00001
        record.priceTable = "builtin-2026-11"
        record.latencyMS = 812.3456789
        record.ttftMS = 120.5
        record.stream = true
        record.statusCode = 200
        record.errorDetail = "client disconnected"
        record.agentName = "writer"
        record.userID = "ann"
        record.appID = "app"
        record.environment = "production"
        record.parentActionID = "act-0"
        record.handoffFrom = "researcher"
        record.handoffTo = "writer"
        record.temperature = 0.7
        record.maxTokens = 256
        record.source = "pod-a"
        record.outcome = "client_disconnected"
        return record
    }

    static func parsed(_ bytes: [UInt8]) throws -> NSObject {
        try #require(JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]) as? NSObject)
    }

    @Test(arguments: [full, CallRecord(actionID: "bare", timestampMicros: 0)])
    func theWriterGivesTheEncodersDocument(_ record: CallRecord) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        let encoded = [UInt8](try encoder.encode([record, record]))
        let written = CallRecord.jsonArray([record, record])
        #expect(try Self.parsed(written) == Self.parsed(encoded))
    }

    @Test func keysComeOutSorted() throws {
        var bytes: [UInt8] = []
        Self.full.appendJSON(to: &bytes)
        let text = String(decoding: bytes, as: UTF8.self)
        let keys = ["action_id", "agent_name", "app_id", "blocked", "content", "cost_usd", "user_id"]
        let positions = keys.compactMap { text.range(of: "\"\($0)\":")?.lowerBound }
        #expect(positions.count == keys.count)
        #expect(positions == positions.sorted())
    }
}
