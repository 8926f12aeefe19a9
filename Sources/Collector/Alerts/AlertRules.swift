/// Turns newly stored calls into alerts: a pure state machine (no I/O, the clock passed in), fed by the ingest
/// pipeline after each committed batch with the records that were new.
///
/// - `high_cost` / `high_latency`: every call at or above the threshold (refused calls never reach a provider and
///   are skipped).
/// - `high_error_rate`: once per breach of a session, when its error rate (failed / calls, refused calls counted
///   in neither) rises to the threshold after at least `errorRateMinimumCalls` calls; re-armed when it drops below.
/// - `daily_spend`: once per UTC day (of the records' timestamps), when that day's running spend reaches the
///   threshold.
package struct AlertRules: Sendable {
    package let config: AlertConfig
    private var sessions: SessionErrorRates
    private var spendDay: Int64?
    private var spend: Double = 0
    private var spendAlerted = false

    private static let microsPerDay: Int64 = 86_400_000_000

    package init(config: AlertConfig) {
        self.config = config
        sessions = SessionErrorRates(capacity: config.maxTrackedSessions)
    }

    /// Sessions whose error rate is being tracked (at most `config.maxTrackedSessions`).
    package var trackedSessions: Int { sessions.count }

    /// The running spend of the UTC day being tracked, with that day's start in microseconds.
    package var dailySpend: (dayStartMicros: Int64, amount: Double)? {
        spendDay.map { ($0 * Self.microsPerDay, spend) }
    }

    /// Tells the rules what a day had spent before they started (a collector restart), from the store.
    ///
    /// `dayStartMicros` is any instant of that UTC day. A seed for the day being tracked adds to it, for an earlier
    /// day is ignored, for a later day starts it. A seeded spend already at the threshold counts as alerted: the
    /// process that stored those calls saw the crossing, so a restart does not repeat the day's alert.
    package mutating func seedDailySpend(dayStartMicros: Int64, amount: Double) {
        let day = Self.day(of: dayStartMicros)
        if let spendDay, day < spendDay { return }
        if day != spendDay {
            spendDay = day
            spend = 0
            spendAlerted = false
        }
        spend += amount
        if let threshold = config.dailySpend, spend >= threshold { spendAlerted = true }
    }

    /// Evaluates records in order; `now` (microseconds since the epoch) stamps the alerts.
    package mutating func evaluate(_ records: [CallRecord], now: Int64) -> [Alert] {
        var alerts: [Alert] = []
        for record in records { evaluate(record, now: now, into: &alerts) }
        return alerts
    }

    private mutating func evaluate(_ record: CallRecord, now: Int64, into alerts: inout [Alert]) {
        let refused = record.blocked || record.outcome == "refused"
        if let threshold = config.costPerCall, !refused, let cost = record.costUSD, cost >= threshold {
            alerts.append(
                alert(
                    .highCost, record, now, value: cost, threshold: threshold,
                    "Single call cost \(AlertFormat.dollars(cost)) reached threshold \(AlertFormat.dollars(threshold))"
                        + Self.describe(record)))
        }
        if let threshold = config.latencyMS, !refused, let latency = record.latencyMS, latency >= threshold {
            alerts.append(
                alert(
                    .highLatency, record, now, value: latency, threshold: threshold,
                    "Call latency \(AlertFormat.milliseconds(latency)) reached threshold "
                        + AlertFormat.milliseconds(threshold) + Self.describe(record)))
        }
        if let threshold = config.errorRate, !refused, let sessionID = record.sessionID {
            evaluateErrorRate(record, sessionID: sessionID, threshold: threshold, now: now, into: &alerts)
        }
        if let threshold = config.dailySpend {
            evaluateDailySpend(record, threshold: threshold, now: now, into: &alerts)
        }
    }

    private mutating func evaluateErrorRate(
        _ record: CallRecord, sessionID: String, threshold: Double, now: Int64, into alerts: inout [Alert]
    ) {
        let failed = (record.statusCode ?? 0) >= 400 || record.outcome != "completed"
        let session = sessions.record(sessionID, failed: failed)
        let rate = session.rate
        if rate < threshold {
            if session.breached { sessions.setBreached(sessionID, false) }
            return
        }
        guard !session.breached, session.calls >= config.errorRateMinimumCalls else { return }
        sessions.setBreached(sessionID, true)
        alerts.append(
            alert(
                .highErrorRate, record, now, value: rate, threshold: threshold,
                "Session \(sessionID) error rate \(AlertFormat.percent(rate)) (\(session.failures)/\(session.calls) calls "
                    + "failed) reached threshold \(AlertFormat.percent(threshold))"
                    + (record.agentName.map { " (last call by agent \($0))" } ?? "")))
    }

    private mutating func evaluateDailySpend(_ record: CallRecord, threshold: Double, now: Int64, into alerts: inout [Alert]) {
        let day = Self.day(of: record.timestampMicros)
        if let spendDay, day < spendDay { return }
        if day != spendDay {
            spendDay = day
            spend = 0
            spendAlerted = false
        }
        spend += record.costUSD ?? 0
        guard !spendAlerted, spend >= threshold else { return }
        spendAlerted = true
        let date = String(ISOTimestamp.format(micros: day * Self.microsPerDay).prefix(10))
        var alert = alert(
            .dailySpend, record, now, value: spend, threshold: threshold,
            "Daily spend \(AlertFormat.dollars(spend)) on \(date) (UTC) reached alert threshold \(AlertFormat.dollars(threshold))"
        )
        alert.dedupKey = "\(Alert.Kind.dailySpend.rawValue):\(date)"
        alerts.append(alert)
    }

    private func alert(
        _ kind: Alert.Kind, _ record: CallRecord, _ now: Int64, value: Double, threshold: Double, _ message: String
    ) -> Alert {
        Alert(
            kind: kind, message: message, value: value, threshold: threshold, actionID: record.actionID,
            sessionID: record.sessionID, agentName: record.agentName, timestampMicros: now)
    }

    /// ` (model gpt-4o, agent researcher, session run-1)`, naming what is known.
    private static func describe(_ record: CallRecord) -> String {
        let parts = [
            record.modelID.map { "model \($0)" }, record.agentName.map { "agent \($0)" },
            record.sessionID.map { "session \($0)" },
        ].compactMap { $0 }
        return parts.isEmpty ? "" : " (\(parts.joined(separator: ", ")))"
    }

    private static func day(of micros: Int64) -> Int64 {
        let (quotient, remainder) = micros.quotientAndRemainder(dividingBy: microsPerDay)
        return remainder < 0 ? quotient - 1 : quotient
    }
}
