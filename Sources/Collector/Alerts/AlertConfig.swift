/// What the collector alerts on and where it sends alerts (docs/reference.md, "Configuration" and "Alerts").
///
/// Every threshold is optional: unset turns that alert off, `0` alerts on everything. Alerts are on only when
/// `webhookURL` is set.
package struct AlertConfig: Sendable, Equatable {
    /// `AGENTLEDGER_ALERT_WEBHOOK_URL`: where alerts are POSTed as JSON. Default none (alerts off).
    package var webhookURL: String?
    /// `AGENTLEDGER_ALERT_COST_PER_CALL`: USD; one `high_cost` alert per call costing at least this. Default none.
    package var costPerCall: Double?
    /// `AGENTLEDGER_ALERT_LATENCY_MS`: one `high_latency` alert per call taking at least this long. Default none.
    package var latencyMS: Double?
    /// `AGENTLEDGER_ALERT_ERROR_RATE`: 0...1; one `high_error_rate` alert per session each time its error rate
    /// rises to at least this. Default none.
    package var errorRate: Double?
    /// `AGENTLEDGER_ALERT_DAILY_SPEND`: USD; one `daily_spend` alert per UTC day once the day's spend reaches
    /// this. Default none.
    package var dailySpend: Double?
    /// A session's error rate is judged only once it has this many calls (not refused ones). Default 3.
    package var errorRateMinimumCalls: Int = 3
    /// Sessions whose error rate is tracked at once; the least recently seen is forgotten first. Default 10,000.
    package var maxTrackedSessions: Int = 10_000

    package init(
        webhookURL: String? = nil, costPerCall: Double? = nil, latencyMS: Double? = nil, errorRate: Double? = nil,
        dailySpend: Double? = nil
    ) {
        self.webhookURL = webhookURL
        self.costPerCall = costPerCall
        self.latencyMS = latencyMS
        self.errorRate = errorRate
        self.dailySpend = dailySpend
    }

    /// Alerts are evaluated and sent only with a webhook to send them to.
    package var isEnabled: Bool { webhookURL.map { !$0.isEmpty } ?? false }

    /// Checks the values once at start; the error names the variable at fault.
    package func validate() throws(AlertConfigError) {
        if let webhookURL, !webhookURL.isEmpty {
            let lowered = webhookURL.lowercased()
            guard lowered.hasPrefix("http://") || lowered.hasPrefix("https://") else {
                throw AlertConfigError(variable: "AGENTLEDGER_ALERT_WEBHOOK_URL", reason: "expected an http:// or https:// URL")
            }
        }
        let thresholds: [(String, Double?)] = [
            ("AGENTLEDGER_ALERT_COST_PER_CALL", costPerCall), ("AGENTLEDGER_ALERT_LATENCY_MS", latencyMS),
            ("AGENTLEDGER_ALERT_ERROR_RATE", errorRate), ("AGENTLEDGER_ALERT_DAILY_SPEND", dailySpend),
        ]
        for case (let variable, let value?) in thresholds where !value.isFinite || value < 0 {
            throw AlertConfigError(variable: variable, reason: "expected a number of 0 or more")
        }
        if let errorRate, errorRate > 1 {
            throw AlertConfigError(variable: "AGENTLEDGER_ALERT_ERROR_RATE", reason: "expected a ratio from 0 to 1 (0.5 = 50%)")
        }
        guard errorRateMinimumCalls >= 1, maxTrackedSessions >= 1 else {
            throw AlertConfigError(
                variable: "AGENTLEDGER_ALERT_ERROR_RATE", reason: "minimum calls and tracked sessions must be 1 or more")
        }
    }
}
