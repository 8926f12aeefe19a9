/// One stored LLM call: the fields of docs/reference.md, "Records", as `/session` and `/explain` return them.
package struct CallRecord: Sendable, Equatable {
    package var actionID: String
    package var sessionID: String?
    /// When the request arrived at the sidecar, microseconds since the Unix epoch.
    package var timestampMicros: Int64
    package var modelID: String?
    /// `openai` or `anthropic`.
    package var provider: String?
    /// The request's messages, with an Anthropic top-level `system` first as a `system` message.
    package var messages: [JSONValue]
    package var systemPrompt: String?
    package var tools: JSONValue?
    package var toolCalls: [ToolCall]?
    package var toolResults: [ToolResult]?
    package var content: String?
    package var stopReason: String?
    package var tokensIn: Int?
    package var tokensOut: Int?
    package var tokensCacheRead: Int?
    package var tokensCacheWrite: Int?
    package var tokensReasoning: Int?
    /// USD; nil when the model has no known price (never zero for unknown).
    package var costUSD: Double?
    /// The price table that priced this call, so totals can be reproduced.
    package var priceTable: String?
    /// Arrival to last byte.
    package var latencyMS: Double?
    /// Arrival to first body byte.
    package var ttftMS: Double?
    package var stream: Bool
    package var statusCode: Int?
    package var errorDetail: String?
    package var blocked: Bool
    package var agentName: String?
    package var userID: String?
    package var appID: String?
    package var environment: String?
    package var parentActionID: String?
    package var handoffFrom: String?
    package var handoffTo: String?
    package var temperature: Double?
    package var maxTokens: Int?
    package var source: String?
    /// `completed`, `upstream_failed`, `client_disconnected`, `upstream_unreachable` or `refused`.
    package var outcome: String

    package init(actionID: String, timestampMicros: Int64) {
        self.actionID = actionID
        self.timestampMicros = timestampMicros
        messages = []
        stream = false
        blocked = false
        outcome = "completed"
    }
}

/// A tool call the model asked for. `arguments` is always a JSON string, whatever the provider sent; an unknown
/// `id` or `name` is written as `null`, never left out.
package struct ToolCall: Sendable, Equatable, Codable {
    package var id: String?
    package var name: String?
    package var arguments: String

    package init(id: String?, name: String?, arguments: String) {
        self.id = id
        self.name = name
        self.arguments = arguments
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(name, forKey: .name)
        try container.encode(arguments, forKey: .arguments)
    }
}

/// A tool's answer, sent by the agent in the request that follows the call that asked for it.
package struct ToolResult: Sendable, Equatable, Codable {
    package var toolCallID: String?
    package var content: JSONValue
    /// The action id of the earlier call whose `tool_calls` held `toolCallID`; set by `ToolLinks` when a
    /// session is read, nil when not linked.
    package var requestedBy: String?

    package init(toolCallID: String?, content: JSONValue, requestedBy: String? = nil) {
        self.toolCallID = toolCallID
        self.content = content
        self.requestedBy = requestedBy
    }

    enum CodingKeys: String, CodingKey {
        case toolCallID = "tool_call_id"
        case content
        case requestedBy = "requested_by"
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(toolCallID, forKey: .toolCallID)
        try container.encode(content, forKey: .content)
        try container.encode(requestedBy, forKey: .requestedBy)
    }
}
