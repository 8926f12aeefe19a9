import Foundation
import NIOCore
import SQLiteNIO

/// How a `CallRecord` maps to a row of `calls`: one list of columns, used for insert and select alike. The messages
/// are stored apart (`MessageBatch`); a row holds their digests.
extension CallRecord {
    static let columns = [
        "action_id", "session_id", "ts_micros", "model_id", "provider", "message_hashes", "system_prompt", "tools", "tool_calls",
        "tool_results", "content", "stop_reason", "tokens_in", "tokens_out", "tokens_cache_read", "tokens_cache_write",
        "tokens_reasoning", "cost_usd", "price_table", "latency_ms", "ttft_ms", "stream", "status_code", "error_detail",
        "blocked", "agent_name", "user_id", "app_id", "environment", "parent_action_id", "handoff_from", "handoff_to",
        "temperature", "max_tokens", "source", "outcome",
    ]

    func sqliteBinds(messageHashes: [UInt8]) -> [SQLiteData] {
        [
            .text(actionID), .optionalText(sessionID), .integer(Int(timestampMicros)), .optionalText(modelID),
            .optionalText(provider), .blob(ByteBuffer(bytes: messageHashes)), .optionalText(systemPrompt),
            .optionalText(tools.map(JSONText.encode)), .optionalText(toolCalls.map(JSONText.encode)),
            .optionalText(toolResults.map(JSONText.encode)), .optionalText(content), .optionalText(stopReason),
            .optionalInteger(tokensIn), .optionalInteger(tokensOut), .optionalInteger(tokensCacheRead),
            .optionalInteger(tokensCacheWrite), .optionalInteger(tokensReasoning), .optionalFloat(costUSD),
            .optionalText(priceTable), .optionalFloat(latencyMS), .optionalFloat(ttftMS), .integer(stream ? 1 : 0),
            .optionalInteger(statusCode), .optionalText(errorDetail), .integer(blocked ? 1 : 0), .optionalText(agentName),
            .optionalText(userID), .optionalText(appID), .optionalText(environment), .optionalText(parentActionID),
            .optionalText(handoffFrom), .optionalText(handoffTo), .optionalFloat(temperature), .optionalInteger(maxTokens),
            .optionalText(source), .text(outcome),
        ]
    }

    /// The row's fields but the messages, which `SQLiteStore` assembles from `message_hashes`.
    init(row: SQLiteRow) throws {
        func text(_ name: String) -> String? { row.column(name)?.string }
        func int(_ name: String) -> Int? { row.column(name)?.saturatingInteger }
        func double(_ name: String) -> Double? { row.column(name)?.double }
        guard let actionID = text("action_id"), let micros = int("ts_micros") else {
            throw StoreError("a calls row lacks action_id or ts_micros")
        }
        self.init(actionID: actionID, timestampMicros: Int64(micros))
        sessionID = text("session_id")
        modelID = text("model_id")
        provider = text("provider")
        systemPrompt = text("system_prompt")
        tools = try text("tools").map { try JSONText.decode(JSONValue.self, $0) }
        toolCalls = try text("tool_calls").map { try JSONText.decode([ToolCall].self, $0) }
        toolResults = try text("tool_results").map { try JSONText.decode([ToolResult].self, $0) }
        content = text("content")
        stopReason = text("stop_reason")
        tokensIn = int("tokens_in")
        tokensOut = int("tokens_out")
        tokensCacheRead = int("tokens_cache_read")
        tokensCacheWrite = int("tokens_cache_write")
        tokensReasoning = int("tokens_reasoning")
        costUSD = double("cost_usd")
        priceTable = text("price_table")
        latencyMS = double("latency_ms")
        ttftMS = double("ttft_ms")
        stream = int("stream") == 1
        statusCode = int("status_code")
        errorDetail = text("error_detail")
        blocked = int("blocked") == 1
        agentName = text("agent_name")
        userID = text("user_id")
        appID = text("app_id")
        environment = text("environment")
        parentActionID = text("parent_action_id")
        handoffFrom = text("handoff_from")
        handoffTo = text("handoff_to")
        temperature = double("temperature")
        maxTokens = int("max_tokens")
        source = text("source")
        outcome = text("outcome") ?? "completed"
    }

    /// Counts toward a session's `error_count`: a failed call that was not a refusal.
    var isError: Bool {
        guard !blocked else { return false }
        if let statusCode { return statusCode >= 400 || outcome != "completed" }
        return true
    }

    /// A call that used tokens of a model with no known price: it has no `cost_usd`, and a total that includes it says
    /// so (`unpriced_calls`). A refusal used nothing; a call without token counts had nothing to price.
    package var isUnpriced: Bool { costUSD == nil && !blocked && modelID != nil && tokensIn != nil }

    /// When the call ended, as a session's `ended_at` counts it: arrival plus latency (a latency that is not finite
    /// counts 0).
    var endedAtMicros: Int64 {
        let latency = latencyMS ?? 0
        return timestampMicros + (latency.isFinite ? Int64(latency * 1000) : 0)
    }
}

extension SQLiteData {
    static func optionalText(_ value: String?) -> SQLiteData { value.map { .text($0) } ?? .null }
    static func optionalInteger(_ value: Int?) -> SQLiteData { value.map { .integer($0) } ?? .null }
    static func optionalFloat(_ value: Double?) -> SQLiteData { value.map { .float($0) } ?? .null }
}
