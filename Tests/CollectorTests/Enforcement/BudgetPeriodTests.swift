import Foundation
import LedgerProtocol
import LedgerTestSupport
import Testing

@testable import Collector

/// Budgets over a calendar week or month in a time zone (`periods` and `time_zone` in the policy file): where each
/// period begins and ends, spend restarting when it ends, and refusals that say which period and wait until its end.
@Suite struct BudgetPeriodTests {
    static func micros(_ iso: String) -> Int64 {
        let formatter = ISO8601DateFormatter()
        return Int64((formatter.date(from: iso)!.timeIntervalSince1970 * 1_000_000).rounded())
    }

    static let newYork = BudgetCalendar(timeZone: TimeZone(identifier: "America/New_York")!, name: "America/New_York")
    static let berlin = BudgetCalendar(timeZone: TimeZone(identifier: "Europe/Berlin")!)

    @Test func calendarPeriodsBeginAtLocalMidnightOnMondaysAndFirstDays() {
        let now = Self.micros("2026-12-06T20:00:00Z")  // a Sunday, 15:00 in New York
        #expect(
            Self.newYork.bounds(of: .month, containing: now)
                == (Self.micros("2026-12-01T05:00:00Z"), Self.micros("2027-01-01T05:00:00Z")))
        #expect(
            Self.newYork.bounds(of: .week, containing: now)
                == (Self.micros("2026-11-30T05:00:00Z"), Self.micros("2026-12-07T05:00:00Z")))
        #expect(
            Self.newYork.bounds(of: .day, containing: now)
                == (Self.micros("2026-12-06T05:00:00Z"), Self.micros("2026-12-07T05:00:00Z")))
        // The UTC day is arithmetic, and the same as Foundation's.
        let utcDay = BudgetCalendar.utc.bounds(of: .day, containing: now)
        #expect(utcDay == (SpendLedger.dayStart(of: now), SpendLedger.dayStart(of: now) + SpendLedger.microsPerDay))
        #expect(
            BudgetCalendar(timeZone: TimeZone(identifier: "Etc/UTC")!).bounds(of: .day, containing: now) == utcDay)
        // Daylight saving time: Berlin's 29 March 2026 has 23 hours.
        let (start, end) = Self.berlin.bounds(of: .day, containing: Self.micros("2026-03-29T12:00:00Z"))
        #expect(end - start == 23 * 3_600_000_000)
        #expect(BudgetCalendar.utc.bounds(of: .lifetime, containing: now) == (.min, .max))
    }

    @Test func instantsNoCalendarCanPlaceGetTheWidestPeriodAndTrapNothing() {
        for time in [Int64.min, .min + 1, .max, .max - 1, -300_000_000_000_000_000] {
            for period in BudgetPeriod.allCases {
                let (start, end) = Self.newYork.bounds(of: period, containing: time)
                #expect(start <= time && (time < end || end == .max))
            }
        }
    }

    @Test func aMonthlyAppBudgetCountsTheMonthAndRestartsOnTheFirstLocalMidnight() {
        let december = Self.micros("2026-12-06T20:00:00Z")
        var policy = EnforcementPolicy()
        policy.admissionMode = .strict
        policy.appBudget = 0.015
        policy.periods = [.app: .month]
        policy.calendar = Self.newYork
        var state = EnforcementState(policy: policy, prices: .builtIn, now: december)
        let request = AdmissionRequest(
            actionID: "a", keys: SpendLedger.Keys(appID: "billing"), model: "gpt-4o", bodyBytes: 400, maxTokens: 1000)
        #expect(state.admit(request, now: december) == .admit(reserved: EnforcementStateTests.callCost))
        state.settle(
            actionID: "a", costUSD: 0.01, keys: SpendLedger.Keys(appID: "billing"), arrivedAt: december, now: december)
        // Three weeks later the month's spend still counts.
        let lateDecember = Self.micros("2026-12-28T12:00:00Z")
        var second = request
        second.actionID = "b"
        guard case .refuse(let refusal) = state.admit(second, now: lateDecember) else {
            Issue.record("December's $0.01 was forgotten within December")
            return
        }
        #expect(refusal.message.hasPrefix("App monthly budget of $0.0150"), "\(refusal.message)")
        let monthEnd = Self.micros("2027-01-01T05:00:00Z")
        #expect(refusal.retryAfterSeconds == Int((monthEnd - lateDecember) / 1_000_000))
        // 04:59 UTC on 1 January is still December in New York; 05:00 is January.
        #expect(state.admit(second, now: monthEnd - 60_000_000) != .admit(reserved: EnforcementStateTests.callCost))
        #expect(state.admit(second, now: monthEnd) == .admit(reserved: EnforcementStateTests.callCost))
        #expect(state.ledger.appCommitted("billing") == EnforcementStateTests.callCost)
        // A record from December arriving in January counts for no periodic key.
        state.settle(
            actionID: "late", costUSD: 1, keys: SpendLedger.Keys(appID: "billing"), arrivedAt: lateDecember, now: monthEnd)
        #expect(state.ledger.appCommitted("billing") == EnforcementStateTests.callCost)
    }

    @Test func aWeeklyFleetBudgetsThresholdAlertNamesItsWeek() {
        let sunday = Self.micros("2026-12-06T20:00:00Z")
        var policy = EnforcementPolicy()
        policy.dailyBudget = 1
        policy.periods = [.fleet: .week]
        policy.alertFractions = [0.5]
        var state = EnforcementState(policy: policy, prices: .builtIn, now: sunday)
        let crossings = state.settle(
            actionID: "a", costUSD: 0.6, keys: SpendLedger.Keys(), arrivedAt: sunday, now: sunday)
        #expect(crossings.count == 1)
        let alert = Alerting.alert(for: crossings[0], now: sunday)
        #expect(alert.message.contains("Weekly budget") && alert.message.contains("in the week from 2026-11-30T00:00:00"))
    }

    @Test func thePolicyFileSetsPeriodsAndTheTimeZoneAndRefusesWhatCannotBe() throws {
        var policy = EnforcementPolicy()
        try PolicyFile.apply(
            "budgets: {app: {\"*\": 1000}, fleet: 5000}\nperiods: {app: month, fleet: week, session: lifetime}\n"
                + "time_zone: America/New_York\n", to: &policy, path: "p.yaml")
        #expect(policy.period(of: .app) == .month && policy.period(of: .fleet) == .week)
        #expect(policy.period(of: .agent) == .day && policy.period(of: .session) == .lifetime)
        #expect(policy.calendar == Self.newYork)
        for (text, reason) in [
            ("periods: {app: fortnight}", "must be day, week (from Monday) or month"),
            ("periods: {session: day}", "periods.session must be lifetime"),
            ("periods: {agent: lifetime}", "must be day, week"),
            ("periods: {team: day}", "not a scope"),
            ("time_zone: Mars/Olympus", "IANA time zone"),
        ] {
            var other = EnforcementPolicy()
            #expect(throws: PolicyFileError.self) { try PolicyFile.apply(text, to: &other, path: "p.yaml") }
            do {
                try PolicyFile.apply(text, to: &other, path: "p.yaml")
            } catch {
                #expect("\(error)".contains(reason), "\(error)")
            }
        }
    }

    /// A restart keeps each period's spend: a monthly app budget starts from the month's calls in the store, a daily
    /// agent budget from the day's.
    @Test(arguments: StoreKind.testable)
    func aRestartReadsEachPeriodsSpendFromTheStore(kind: StoreKind) async throws {
        try await kind.withStore { store in
            let now = Self.micros("2026-12-06T20:00:00Z")
            var records: [CallRecord] = []
            for (id, at, cost) in [
                ("nov", "2026-11-30T12:00:00Z", 5.0), ("dec-2", "2026-12-02T12:00:00Z", 0.25),
                ("today", "2026-12-06T10:00:00Z", 0.5),
            ] {
                var record = CallRecord.stored(id, at: Self.micros(at), cost: cost)
                record.appID = "billing"
                record.agentName = "writer"
                records.append(record)
            }
            _ = try await store.insert(records)
            var policy = EnforcementPolicy()
            policy.appBudget = 100
            policy.agentBudget = 100
            policy.dailyBudget = 100
            policy.periods = [.app: .month, .fleet: .week]
            let enforcer = Enforcer(policy: policy, prices: .builtIn, store: store, logger: Integration.logger, now: { now })
            let today = try await enforcer.seedSpend()
            #expect(today?.total == 0.5, "the agent's daily read is the UTC day's, returned for the daily-spend alert")
            let (app, agent, fleet) = enforcer.inspect { state in
                (state.ledger.appCommitted("billing"), state.ledger.agentCommitted("writer"), state.ledger.dailyCommitted)
            }
            #expect(app == Nanodollars(usd: 0.75), "December's calls")
            #expect(agent == Nanodollars(usd: 0.5), "today's call")
            #expect(fleet == Nanodollars(usd: 5.75), "the week from Monday 30 November")
        }
    }
}
