import Collector
import Testing

/// The alert rules as a state machine: records in, alerts out, no clock but the one passed in.
@Suite struct AlertRulesTests {
    /// 2026-04-03T00:00:00Z.
    static let dayStart: Int64 = 20_546 * 86_400_000_000
    static let hour: Int64 = 3_600_000_000
    static let day: Int64 = 24 * hour
    let now = dayStart + 12 * hour

    static func call(
        _ id: String, session: String? = "run-1", cost: Double? = nil, latency: Double? = nil, status: Int? = 200,
        outcome: String = "completed", blocked: Bool = false, at timestamp: Int64 = dayStart + hour
    ) -> CallRecord {
        var record = CallRecord(actionID: id, timestampMicros: timestamp)
        record.sessionID = session
        record.costUSD = cost
        record.latencyMS = latency
        record.statusCode = status
        record.outcome = outcome
        record.blocked = blocked
        record.agentName = "researcher"
        record.modelID = "gpt-4o"
        return record
    }

    static func failed(_ id: String, session: String = "run-1") -> CallRecord { call(id, session: session, status: 500) }

    @Test func highCostFiresForEachCallAtOrAboveTheThreshold() {
        var rules = AlertRules(config: AlertConfig(webhookURL: "http://hook", costPerCall: 0.10))
        let alerts = rules.evaluate(
            [Self.call("a", cost: 0.05), Self.call("b", cost: 0.10), Self.call("c", cost: 0.2), Self.call("d")], now: now)
        #expect(alerts.map(\.actionID) == ["b", "c"])
        #expect(alerts.allSatisfy { $0.kind == .highCost && $0.threshold == 0.10 && $0.timestampMicros == now })
        #expect(alerts.map(\.value) == [0.10, 0.2])
        #expect(alerts[1].message.contains("$0.2000") && alerts[1].message.contains("$0.1000"))
        #expect(alerts[1].message.contains("gpt-4o") && alerts[1].sessionID == "run-1" && alerts[1].agentName == "researcher")
        #expect(alerts[1].dedupKey == "high_cost:c")
    }

    @Test func zeroThresholdsAlertOnEveryPricedOrTimedCallButNotOnRefusals() {
        var rules = AlertRules(config: AlertConfig(webhookURL: "http://hook", costPerCall: 0, latencyMS: 0))
        let alerts = rules.evaluate(
            [
                Self.call("free", cost: 0, latency: 0), Self.call("unpriced"),
                Self.call("refused", cost: 0, latency: 1, status: 429, outcome: "refused", blocked: true),
            ], now: now)
        #expect(alerts.map(\.kind) == [.highCost, .highLatency])
        #expect(alerts.allSatisfy { $0.actionID == "free" })
    }

    @Test func highLatencyFiresAtTheThreshold() {
        var rules = AlertRules(config: AlertConfig(webhookURL: "http://hook", latencyMS: 1000))
        let alerts = rules.evaluate([Self.call("fast", latency: 999.9), Self.call("slow", latency: 1000)], now: now)
        #expect(alerts.map(\.actionID) == ["slow"])
        #expect(alerts.first?.message.hasPrefix("Call latency 1000ms reached threshold 1000ms") == true)
    }

    @Test func smallAmountsKeepSignificantDigits() {
        var rules = AlertRules(config: AlertConfig(webhookURL: "http://hook", costPerCall: 0.00001))
        let alerts = rules.evaluate([Self.call("a", cost: 0.00002)], now: now)
        #expect(alerts.first?.message.contains("$0.000020") == true)
    }

    @Test func errorRateFiresOncePerBreachAndReArmsBelowTheThreshold() {
        var rules = AlertRules(config: AlertConfig(webhookURL: "http://hook", errorRate: 0.5))
        // Two failures are 100% but below the 3-call minimum.
        #expect(rules.evaluate([Self.failed("1"), Self.failed("2")], now: now).isEmpty)
        let crossing = rules.evaluate([Self.call("3")], now: now)
        #expect(crossing.count == 1)
        #expect(crossing.first?.kind == .highErrorRate && crossing.first?.actionID == "3")
        #expect(crossing.first?.value == 2.0 / 3.0 && crossing.first?.threshold == 0.5)
        #expect(crossing.first?.message.contains("error rate 66.7% (2/3 calls failed) reached threshold 50%") == true)
        // Still breached (3/4, then 3/6 = 50%): no repeat.
        #expect(rules.evaluate([Self.failed("4"), Self.call("5"), Self.call("6")], now: now).isEmpty)
        // 3/7 drops below: re-armed; 4/8 = 50% is a new breach.
        #expect(rules.evaluate([Self.call("7")], now: now).isEmpty)
        #expect(rules.evaluate([Self.failed("8")], now: now).map(\.actionID) == ["8"])
    }

    @Test func errorRateIsPerSession() {
        var rules = AlertRules(config: AlertConfig(webhookURL: "http://hook", errorRate: 0.5))
        let alerts = rules.evaluate(
            (1...3).map { Self.failed("a\($0)", session: "a") } + (1...3).map { Self.call("b\($0)", session: "b") }
                + [Self.failed("n", session: "unused")].map { record in
                    var record = record
                    record.sessionID = nil
                    return record
                },
            now: now)
        #expect(alerts.map(\.sessionID) == ["a"])
    }

    @Test func failuresAreStatusesFrom400AndOutcomesOtherThanCompleted() {
        var rules = AlertRules(config: AlertConfig(webhookURL: "http://hook", errorRate: 1))
        let alerts = rules.evaluate(
            [
                Self.call("404", status: 404), Self.call("unreachable", status: nil, outcome: "upstream_unreachable"),
                Self.call("disconnected", status: 200, outcome: "client_disconnected"),
            ], now: now)
        #expect(alerts.map(\.actionID) == ["disconnected"])
    }

    @Test func refusedCallsAreNeitherErrorsNorCalls() {
        var rules = AlertRules(config: AlertConfig(webhookURL: "http://hook", errorRate: 0.5))
        let refused = (1...5).map { Self.call("r\($0)", status: 429, outcome: "refused", blocked: true) }
        #expect(rules.evaluate([Self.failed("1"), Self.call("2")] + refused, now: now).isEmpty)
        // Counting the refusals as successes would make this 2/8; as errors, the alert would have fired already.
        #expect(rules.evaluate([Self.failed("3")], now: now).map(\.actionID) == ["3"])
    }

    @Test func errorRateZeroAlertsOncePerSessionAtTheMinimum() {
        var rules = AlertRules(config: AlertConfig(webhookURL: "http://hook", errorRate: 0))
        let alerts = rules.evaluate((1...6).map { Self.call("\($0)") }, now: now)
        #expect(alerts.map(\.actionID) == ["3"])
        #expect(alerts.first?.message.contains("0% (0/3 calls failed)") == true)
    }

    @Test func trackedSessionsAreBoundedAndTheLeastRecentlySeenIsForgotten() {
        var config = AlertConfig(webhookURL: "http://hook", errorRate: 1)
        config.errorRateMinimumCalls = 2
        config.maxTrackedSessions = 2
        var rules = AlertRules(config: config)
        #expect(rules.evaluate([Self.failed("a1", session: "a"), Self.failed("b1", session: "b")], now: now).isEmpty)
        #expect(rules.evaluate([Self.failed("a2", session: "a")], now: now).map(\.actionID) == ["a2"])
        // c evicts b (a was seen since); b comes back as new and evicts a; c keeps its count.
        #expect(rules.evaluate([Self.failed("c1", session: "c"), Self.failed("b2", session: "b")], now: now).isEmpty)
        #expect(rules.trackedSessions == 2)
        #expect(rules.evaluate([Self.failed("c2", session: "c")], now: now).map(\.actionID) == ["c2"])
        #expect(rules.evaluate([Self.failed("a3", session: "a")], now: now).isEmpty)
    }

    @Test func manySessionsStayWithinTheBound() {
        var config = AlertConfig(webhookURL: "http://hook", errorRate: 0.5)
        config.maxTrackedSessions = 100
        var rules = AlertRules(config: config)
        for index in 0..<20_000 {
            _ = rules.evaluate([Self.failed("\(index)", session: "s\(index % 5_000)")], now: now)
            #expect(rules.trackedSessions <= 100)
        }
        #expect(rules.trackedSessions == 100)
    }

    @Test func dailySpendFiresOncePerUTCDay() throws {
        var rules = AlertRules(config: AlertConfig(webhookURL: "http://hook", dailySpend: 1.0))
        #expect(rules.evaluate([Self.call("1", cost: 0.4), Self.call("2", cost: 0.4)], now: now).isEmpty)
        let crossing = rules.evaluate([Self.call("3", cost: 0.3), Self.call("4", cost: 0.5)], now: now)
        let alert = try #require(crossing.first)
        #expect(crossing.count == 1)
        #expect(alert.kind == .dailySpend && alert.actionID == "3" && alert.threshold == 1.0)
        #expect(abs(alert.value - 1.1) < 1e-9)
        #expect(alert.dedupKey == "daily_spend:2026-04-03")
        #expect(alert.message == "Daily spend $1.1000 on 2026-04-03 (UTC) reached alert threshold $1.0000")
        // The next UTC day starts from zero and may alert again.
        let tomorrow = Self.dayStart + Self.day + Self.hour
        #expect(rules.evaluate([Self.call("5", cost: 0.9, at: tomorrow)], now: now).isEmpty)
        // A late record of the day before changes nothing.
        #expect(rules.evaluate([Self.call("late", cost: 5, at: Self.dayStart + Self.hour)], now: now).isEmpty)
        let next = rules.evaluate([Self.call("6", cost: 0.2, at: tomorrow)], now: now)
        #expect(next.map(\.dedupKey) == ["daily_spend:2026-04-04"])
    }

    @Test func dailySpendZeroAlertsOnTheFirstCallOfEachDay() {
        var rules = AlertRules(config: AlertConfig(webhookURL: "http://hook", dailySpend: 0))
        let alerts = rules.evaluate(
            [Self.call("1"), Self.call("2", cost: 1), Self.call("3", at: Self.dayStart + Self.day)], now: now)
        #expect(alerts.map(\.actionID) == ["1", "3"])
    }

    @Test func seededSpendCountsTowardTheDay() {
        var rules = AlertRules(config: AlertConfig(webhookURL: "http://hook", dailySpend: 1.0))
        rules.seedDailySpend(dayStartMicros: Self.dayStart, amount: 0.75)
        #expect(rules.evaluate([Self.call("1", cost: 0.125)], now: now).isEmpty)
        #expect(rules.evaluate([Self.call("2", cost: 0.125)], now: now).map(\.actionID) == ["2"])
        #expect(rules.dailySpend?.dayStartMicros == Self.dayStart)
    }

    @Test func aSeedAlreadyOverTheThresholdDoesNotRepeatTheDaysAlert() {
        var rules = AlertRules(config: AlertConfig(webhookURL: "http://hook", dailySpend: 1.0))
        rules.seedDailySpend(dayStartMicros: Self.dayStart + 5 * Self.hour, amount: 3)
        rules.seedDailySpend(dayStartMicros: Self.dayStart - Self.day, amount: 100)
        #expect(rules.dailySpend?.amount == 3)
        #expect(rules.evaluate([Self.call("1", cost: 0.1)], now: now).isEmpty)
        let tomorrow = Self.dayStart + Self.day
        #expect(rules.evaluate([Self.call("2", cost: 1, at: tomorrow)], now: now).map(\.actionID) == ["2"])
    }

    @Test func unsetThresholdsAreOff() {
        var rules = AlertRules(config: AlertConfig(webhookURL: "http://hook"))
        #expect(
            rules.evaluate((1...5).map { Self.failed("\($0)") } + [Self.call("x", cost: 100, latency: 1e6)], now: now).isEmpty)
    }

    @Test func payloadHasTheContractFields() {
        var rules = AlertRules(config: AlertConfig(webhookURL: "http://hook", costPerCall: 0.1))
        let alert = rules.evaluate([Self.call("a1", cost: 0.25)], now: now)[0]
        let payload = alert.payload
        #expect(payload["type"] == .string("high_cost"))
        #expect(payload["value"] == .double(0.25) && payload["threshold"] == .double(0.1))
        #expect(payload["action_id"] == .string("a1") && payload["session_id"] == .string("run-1"))
        #expect(payload["agent_name"] == .string("researcher"))
        #expect(payload["timestamp"] == .string("2026-04-03T12:00:00.000000Z"))
        #expect(payload["message"]?.stringValue == alert.message)
    }

    @Test func configValidationNamesTheVariable() {
        #expect(throws: Never.self) { try AlertConfig(webhookURL: "https://hooks.example.com/x", errorRate: 1).validate() }
        #expect(AlertConfig(webhookURL: "https://h").isEnabled && !AlertConfig(costPerCall: 1).isEnabled)
        #expect(
            throws: AlertConfigError(variable: "AGENTLEDGER_ALERT_ERROR_RATE", reason: "expected a ratio from 0 to 1 (0.5 = 50%)")
        ) {
            try AlertConfig(errorRate: 50).validate()
        }
        #expect(throws: AlertConfigError.self) { try AlertConfig(webhookURL: "ftp://x").validate() }
        #expect(throws: AlertConfigError.self) { try AlertConfig(costPerCall: -1).validate() }
    }
}
