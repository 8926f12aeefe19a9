/// A session's aggregates folded from its calls the way the stores fold them at insert, so an export's `session`
/// always agrees with its `calls` (one read, no race with calls arriving in between).
extension SessionSummary {
    /// Nil when `calls` is empty. `calls` oldest first: the latest non-null model, agent, user and environment win.
    init?(sessionID: String, calls: [CallRecord]) {
        guard let first = calls.first else { return nil }
        self.init(
            sessionID: sessionID, callCount: 0, startedAtMicros: first.timestampMicros,
            endedAtMicros: first.timestampMicros, totalLatencyMS: 0, totalTokensIn: 0, totalTokensOut: 0,
            totalCostUSD: 0, errorCount: 0, blockedCount: 0)
        for call in calls {
            let latency = call.latencyMS ?? 0
            let end = call.timestampMicros + (latency.isFinite ? Int64(latency * 1000) : 0)
            callCount += 1
            startedAtMicros = min(startedAtMicros, call.timestampMicros)
            endedAtMicros = max(endedAtMicros, end)
            totalLatencyMS += latency
            totalTokensIn += call.tokensIn ?? 0
            totalTokensOut += call.tokensOut ?? 0
            totalCostUSD += call.blocked ? 0 : call.costUSD ?? 0
            errorCount += call.isError ? 1 : 0
            blockedCount += call.blocked ? 1 : 0
            modelID = call.modelID ?? modelID
            agentName = call.agentName ?? agentName
            userID = call.userID ?? userID
            environment = call.environment ?? environment
            appID = call.appID ?? appID
            if let source = call.source, !sources.contains(source), sources.count < SessionSummary.maximumSources {
                sources.append(source)
            }
        }
    }
}
