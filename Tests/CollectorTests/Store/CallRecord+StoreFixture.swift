@testable import Collector

/// Records for the store tests: every JSON column filled, text that needs escaping, one session by default.
extension CallRecord {
    static func stored(
        _ id: String, session: String? = "s1", at micros: Int64, cost: Double? = 0.5, status: Int? = 200
    ) -> CallRecord {
        var record = CallRecord(actionID: id, timestampMicros: micros)
        record.sessionID = session
        record.modelID = "gpt-4o"
        record.provider = "openai"
        record.messages = [.object(["role": .string("user"), "content": .string("héllo ✓ \"quoted\"")])]
        record.toolCalls = [ToolCall(id: "call_1", name: "get_weather", arguments: #"{"city":"Paris"}"#)]
        record.toolResults = [ToolResult(toolCallID: "call_0", content: .string("18C"))]
        record.tools = .array([.object(["type": .string("function")])])
        record.tokensIn = 100
        record.tokensOut = 20
        record.costUSD = cost
        record.latencyMS = 12.5
        record.statusCode = status
        record.agentName = "writer"
        record.environment = "development"
        return record
    }
}
