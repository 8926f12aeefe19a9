import LedgerProtocol
import LedgerTestSupport
import Testing

@testable import Collector

/// The app scope: a budget per app id per UTC day, judged, held and settled like every other scope.
@Suite struct AppBudgetTests {
    static let morning = EnforcementStateTests.morning
    static let callCost = EnforcementStateTests.callCost
    static let tomorrow = morning + 14 * 3600 * 1_000_000

    static func request(_ id: String, app: String?, session: String? = nil, agent: String? = nil) -> AdmissionRequest {
        AdmissionRequest(
            actionID: id, keys: SpendLedger.Keys(sessionID: session, agentName: agent, appID: app), model: "gpt-4o",
            bodyBytes: 400, maxTokens: 1000)
    }

    static func state(_ configure: (inout EnforcementPolicy) -> Void) -> EnforcementState {
        var policy = EnforcementPolicy()
        // These tests judge by the worst case: strict mode (AdmissionModeTests covers expected mode).
        policy.admissionMode = .strict
        configure(&policy)
        return EnforcementState(policy: policy, prices: .builtIn, now: morning)
    }

    @Test func anAppBudgetAdmitsWhatFitsThenRefusesWithTheAppsKeyUntilMidnight() {
        let budget = Self.callCost + Self.callCost
        var state = Self.state { $0.appBudget = budget.usd }
        #expect(state.admit(Self.request("a", app: "billing"), now: Self.morning) == .admit(reserved: Self.callCost))
        #expect(state.admit(Self.request("b", app: "billing"), now: Self.morning) == .admit(reserved: Self.callCost))
        guard case .refuse(let refusal) = state.admit(Self.request("c", app: "billing"), now: Self.morning) else {
            Issue.record("the third call was admitted past the app's budget")
            return
        }
        #expect(refusal.kind == .budget)
        #expect(
            refusal.message
                == "App daily budget of \(budget) exceeded (current spend and reservations: \(budget), "
                + "this call up to \(Self.callCost)) App: billing.")
        #expect(refusal.retryAfterSeconds == 14 * 3600, "10:00 UTC is 14 hours before midnight")
        #expect(state.admit(Self.request("d", app: "search"), now: Self.morning) == .admit(reserved: Self.callCost))
        #expect(
            state.admit(Self.request("e", app: nil), now: Self.morning) == .admit(reserved: Self.callCost),
            "a call without an app id has no app budget")
        #expect(state.ledger.appCommitted("billing") == budget)
    }

    @Test func settlingCountsTheRealCostAgainstTheApp() {
        var state = Self.state { $0.appBudget = 0.015 }
        #expect(state.admit(Self.request("a", app: "billing"), now: Self.morning) == .admit(reserved: Self.callCost))
        #expect(state.admit(Self.request("b", app: "billing"), now: Self.morning) != .admit(reserved: Self.callCost))
        state.settle(
            actionID: "a", costUSD: 0.002, keys: SpendLedger.Keys(appID: "billing"), arrivedAt: Self.morning,
            now: Self.morning)
        #expect(state.ledger.appCommitted("billing") == Nanodollars(usd: 0.002))
        #expect(state.admit(Self.request("b", app: "billing"), now: Self.morning) == .admit(reserved: Self.callCost))
        #expect(state.ledger.appCommitted("billing") == Nanodollars(usd: 0.002) + Self.callCost)
        #expect(state.admit(Self.request("c", app: "billing"), now: Self.morning) != .admit(reserved: Self.callCost))
    }

    @Test func theAppsDayRestartsAtMidnightAndALateRecordCountsForNoDay() {
        var state = Self.state { $0.appBudget = 0.02 }
        state.settle(
            actionID: "spent", costUSD: 0.015, keys: SpendLedger.Keys(appID: "billing"), arrivedAt: Self.morning,
            now: Self.morning)
        #expect(state.admit(Self.request("a", app: "billing"), now: Self.morning) != .admit(reserved: Self.callCost))
        #expect(state.admit(Self.request("b", app: "billing"), now: Self.tomorrow) == .admit(reserved: Self.callCost))
        #expect(state.ledger.appCommitted("billing") == Self.callCost, "yesterday's spend is gone")
        state.settle(
            actionID: "late", costUSD: 0.5, keys: SpendLedger.Keys(appID: "billing"), arrivedAt: Self.morning,
            now: Self.tomorrow)
        #expect(state.ledger.appCommitted("billing") == Self.callCost, "a record from yesterday counts for no day")
        state.settle(
            actionID: "b", costUSD: 0.001, keys: SpendLedger.Keys(appID: "billing"), arrivedAt: Self.tomorrow,
            now: Self.tomorrow)
        #expect(state.ledger.appCommitted("billing") == Nanodollars(usd: 0.001))
    }

    @Test func aReservationFromYesterdayIsNotTakenOffTheNewDay() {
        var state = Self.state { $0.appBudget = 1 }
        #expect(state.admit(Self.request("old", app: "billing"), now: Self.morning) == .admit(reserved: Self.callCost))
        #expect(state.admit(Self.request("new", app: "billing"), now: Self.tomorrow) == .admit(reserved: Self.callCost))
        state.settle(
            actionID: "old", costUSD: 0, keys: SpendLedger.Keys(appID: "billing"), arrivedAt: Self.morning,
            now: Self.tomorrow)
        #expect(state.ledger.appCommitted("billing") == Self.callCost, "only today's reservation is held")
    }

    @Test func seededAppSpendCountsAfterARestart() {
        var state = Self.state { $0.appBudget = 0.05 }
        state.seedToday(total: Nanodollars(usd: 0.045), byAgent: [:], byUser: [:], byApp: ["billing": Nanodollars(usd: 0.045)])
        guard case .refuse(let refusal) = state.admit(Self.request("a", app: "billing"), now: Self.morning) else {
            Issue.record("the morning's app spend was forgotten")
            return
        }
        #expect(refusal.message.hasPrefix("App daily budget of $0.0500 exceeded (current spend and reservations: $0.0450"))
        #expect(state.admit(Self.request("b", app: "search"), now: Self.morning) == .admit(reserved: Self.callCost))
    }

    /// Session, agent, user, app, then the fleet: the first budget a call would pass names the refusal.
    @Test func theAppBudgetIsCheckedAfterUserAndBeforeTheFleet() {
        var state = Self.state {
            $0.sessionBudget = 1
            $0.agentBudget = 1
            $0.dailyBudget = 0
            $0.appBudget = 0
        }
        state.beginLoading(session: "s1")
        state.finishLoading(session: "s1", stored: .zero, now: Self.morning)
        let request = Self.request("a", app: "billing", session: "s1", agent: "writer")
        guard case .refuse(let app) = state.admit(request, now: Self.morning) else {
            Issue.record("a zero app budget admitted a call")
            return
        }
        #expect(app.message.hasPrefix("App daily budget of $0.0000 exceeded"))
        guard case .refuse(let daily) = state.admit(Self.request("b", app: nil, session: "s1"), now: Self.morning) else {
            Issue.record("a zero daily budget admitted a call")
            return
        }
        #expect(daily.message.hasPrefix("Daily budget of $0.0000 exceeded"))
    }

    /// The collector's enforcer charges the app id an ADMIT names, and settles by the app id its record names.
    @Test func theEnforcerChargesTheAppOfTheAdmitAndOfTheRecord() async throws {
        var policy = EnforcementPolicy()
        policy.appBudget = Self.callCost.usd
        try await StoreKind.sqlite.withStore { store in
            let enforcer = Enforcer(
                policy: policy, prices: .builtIn, store: store, logger: Integration.logger, now: { Self.morning })
            func admit(_ id: String, app: String?) -> Verdict? {
                enforcer.immediateVerdict(
                    for: Admit(requestID: 1, actionID: id, appID: app, model: "gpt-4o", bodyBytes: 400, maxTokens: 1000))
            }
            #expect(admit("a", app: "billing")?.decision == .admit)
            let refused = admit("b", app: "billing")
            #expect(refused?.decision == .refuse)
            #expect(refused?.message?.hasSuffix(" App: billing.") == true)
            #expect(admit("c", app: "search")?.decision == .admit)

            var record = CallRecord.stored("a", session: nil, at: Self.morning, cost: 0)
            record.appID = "billing"
            enforcer.settle([record], newActionIDs: ["a"])
            #expect(admit("b", app: "billing")?.decision == .admit, "the record released the app's reservation")

            enforcer.seedToday(SpendTotals(total: 1, byApp: ["search": 1]))
            #expect(admit("d", app: "search")?.decision == .refuse, "seeded app spend counts")
        }
    }
}
