/// One alert as the webhook receives it (docs/reference.md, "Alerts").
package struct Alert: Sendable, Equatable {
    /// The alert types of docs/reference.md, "Alerts"; the raw value is the payload's `type`.
    package enum Kind: String, Sendable, CaseIterable {
        case highCost = "high_cost"
        case highLatency = "high_latency"
        case highErrorRate = "high_error_rate"
        case dailySpend = "daily_spend"
        case budgetThreshold = "budget_threshold"
    }

    package var kind: Kind
    /// For people: what crossed what, with `$` amounts and percentages.
    package var message: String
    package var value: Double
    package var threshold: Double
    /// The call that raised the alert (for `daily_spend`, the call that crossed the threshold).
    package var actionID: String?
    package var sessionID: String?
    package var agentName: String?
    /// When the alert was raised, microseconds since the Unix epoch.
    package var timestampMicros: Int64
    /// Identifies the event, so the dispatcher delivers it once: `type:action_id`, or `daily_spend:YYYY-MM-DD`.
    package var dedupKey: String

    package init(
        kind: Kind, message: String, value: Double, threshold: Double, actionID: String?, sessionID: String?,
        agentName: String?, timestampMicros: Int64, dedupKey: String? = nil
    ) {
        self.kind = kind
        self.message = message
        self.value = value
        self.threshold = threshold
        self.actionID = actionID
        self.sessionID = sessionID
        self.agentName = agentName
        self.timestampMicros = timestampMicros
        self.dedupKey = dedupKey ?? "\(kind.rawValue):\(actionID ?? "")"
    }

    /// The webhook payload: `{type, message, value, threshold, action_id, session_id, agent_name, timestamp}`.
    package var payload: JSONValue {
        func optional(_ text: String?) -> JSONValue { text.map(JSONValue.string) ?? .null }
        return .object([
            "type": .string(kind.rawValue),
            "message": .string(message),
            "value": .double(value),
            "threshold": .double(threshold),
            "action_id": optional(actionID),
            "session_id": optional(sessionID),
            "agent_name": optional(agentName),
            "timestamp": .string(ISOTimestamp.format(micros: timestampMicros)),
        ])
    }

    /// The payload as compact JSON text.
    package var jsonText: String { JSONWriter.text(of: payload) }
}
