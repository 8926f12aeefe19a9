/// A session's aggregates folded from its calls the way the stores fold them at insert, so an export's `session`
/// always agrees with its `calls` (one read, no race with calls arriving in between), and a Postgres batch can bind
/// its sessions' rows already folded.
extension SessionSummary {
    /// Nil when `calls` is empty. `calls` oldest first: the latest non-null model, agent, user and environment win.
    init?(sessionID: String, calls: [CallRecord]) {
        guard let first = calls.first else { return nil }
        self.init(sessionID: sessionID, first: first)
        for call in calls.dropFirst() { fold(call) }
    }

    /// The aggregates of one call.
    init(sessionID: String, first call: CallRecord) {
        self.init(
            sessionID: sessionID, callCount: 0, startedAtMicros: call.timestampMicros,
            endedAtMicros: call.endedAtMicros, totalLatencyMS: 0, totalTokensIn: 0, totalTokensOut: 0,
            totalCostUSD: 0, errorCount: 0, blockedCount: 0)
        fold(call)
    }

    /// Adds a later call of the session.
    mutating func fold(_ call: CallRecord) {
        callCount += 1
        startedAtMicros = min(startedAtMicros, call.timestampMicros)
        endedAtMicros = max(endedAtMicros, call.endedAtMicros)
        totalLatencyMS += call.latencyMS ?? 0
        totalTokensIn += call.tokensIn ?? 0
        totalTokensOut += call.tokensOut ?? 0
        totalCostUSD = Money.sum(totalCostUSD, call.blocked ? 0 : call.costUSD ?? 0)
        errorCount += call.isError ? 1 : 0
        blockedCount += call.blocked ? 1 : 0
        unpricedCalls += call.isUnpriced ? 1 : 0
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
