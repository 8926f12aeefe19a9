/// The record's JSON shape (docs/reference.md, "Records"): every field present, `null` when unknown.
extension CallRecord: Encodable {
    enum CodingKeys: String, CodingKey {
        case actionID = "action_id", sessionID = "session_id", timestamp, modelID = "model_id", provider, messages
        case systemPrompt = "system_prompt", tools, toolCalls = "tool_calls", toolResults = "tool_results", content
        case stopReason = "stop_reason", tokensIn = "tokens_in", tokensOut = "tokens_out"
        case tokensCacheRead = "tokens_cache_read", tokensCacheWrite = "tokens_cache_write"
        case tokensReasoning = "tokens_reasoning", costUSD = "cost_usd", priceTable = "price_table"
        case latencyMS = "latency_ms", ttftMS = "ttft_ms", stream, statusCode = "status_code"
        case errorDetail = "error_detail", blocked, agentName = "agent_name", userID = "user_id", appID = "app_id"
        case environment, parentActionID = "parent_action_id", handoffFrom = "handoff_from", handoffTo = "handoff_to"
        case temperature, maxTokens = "max_tokens", source, outcome
    }

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(actionID, forKey: .actionID)
        try c.encode(sessionID, forKey: .sessionID)
        try c.encode(ISOTimestamp.format(micros: timestampMicros), forKey: .timestamp)
        try c.encode(modelID, forKey: .modelID)
        try c.encode(provider, forKey: .provider)
        try c.encode(messages, forKey: .messages)
        try c.encode(systemPrompt, forKey: .systemPrompt)
        try c.encode(tools, forKey: .tools)
        try c.encode(toolCalls, forKey: .toolCalls)
        try c.encode(toolResults, forKey: .toolResults)
        try c.encode(content, forKey: .content)
        try c.encode(stopReason, forKey: .stopReason)
        try c.encode(tokensIn, forKey: .tokensIn)
        try c.encode(tokensOut, forKey: .tokensOut)
        try c.encode(tokensCacheRead, forKey: .tokensCacheRead)
        try c.encode(tokensCacheWrite, forKey: .tokensCacheWrite)
        try c.encode(tokensReasoning, forKey: .tokensReasoning)
        try c.encode(costUSD, forKey: .costUSD)
        try c.encode(priceTable, forKey: .priceTable)
        try c.encode(latencyMS.map(Self.milliseconds), forKey: .latencyMS)
        try c.encode(ttftMS.map(Self.milliseconds), forKey: .ttftMS)
        try c.encode(stream, forKey: .stream)
        try c.encode(statusCode, forKey: .statusCode)
        try c.encode(errorDetail, forKey: .errorDetail)
        try c.encode(blocked, forKey: .blocked)
        try c.encode(agentName, forKey: .agentName)
        try c.encode(userID, forKey: .userID)
        try c.encode(appID, forKey: .appID)
        try c.encode(environment, forKey: .environment)
        try c.encode(parentActionID, forKey: .parentActionID)
        try c.encode(handoffFrom, forKey: .handoffFrom)
        try c.encode(handoffTo, forKey: .handoffTo)
        try c.encode(temperature, forKey: .temperature)
        try c.encode(maxTokens, forKey: .maxTokens)
        try c.encode(source, forKey: .source)
        try c.encode(outcome, forKey: .outcome)
    }

    /// Milliseconds to microsecond precision, so JSON shows `12.345`, not binary noise.
    static func milliseconds(_ value: Double) -> Double { (value * 1000).rounded() / 1000 }
}
