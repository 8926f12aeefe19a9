import Testing

@testable import Collector

/// Budgets with reservations, judged by the pure state with a hand-moved clock.
@Suite struct EnforcementStateTests {
    /// 2025-03-04T10:00:00Z.
    static let morning: Int64 = 1_741_082_400_000_000
    static let minute: Int64 = 60_000_000
    /// gpt-4o: $2.50 in, $10 out per million. 400 body bytes = 100 input tokens = $0.00025; 1,000 output = $0.01.
    static let callCost = Nanodollars(usd: 0.01025)

    static func request(_ id: String, session: String? = "s1", agent: String? = nil, user: String? = nil) -> AdmissionRequest {
        AdmissionRequest(
            actionID: id, keys: SpendLedger.Keys(sessionID: session, agentName: agent, userID: user), model: "gpt-4o",
            bodyBytes: 400, maxTokens: 1000)
    }

    static func state(_ configure: (inout EnforcementPolicy) -> Void) -> EnforcementState {
        var policy = EnforcementPolicy()
        // These tests judge by the worst case: strict mode (AdmissionModeTests covers expected mode).
        policy.admissionMode = .strict
        configure(&policy)
        var state = EnforcementState(policy: policy, prices: .builtIn, now: morning)
        state.beginLoading(session: "s1")
        state.finishLoading(session: "s1", stored: .zero, now: morning)
        return state
    }

    @Test func theWorstCaseIsTheBodyAsInputPlusMaxTokensAtTheModelsPrices() {
        var state = Self.state { $0.dailyBudget = 1 }
        #expect(state.worstCase(of: Self.request("a")) == Self.callCost)
        var noMax = Self.request("b")
        noMax.maxTokens = nil
        #expect(state.worstCase(of: noMax) == Nanodollars(usd: 0.00025 + 4096 * 10 / 1e6))
        var unknown = Self.request("c")
        unknown.model = "no-such-model"
        #expect(state.worstCase(of: unknown) == nil)
    }

    @Test func fiftyConcurrentCallsWithRoomForFiveAdmitExactlyFive() {
        var state = Self.state { $0.sessionBudget = Self.callCost.usd * 5 }
        let decisions = (0..<50).map { state.admit(Self.request("call-\($0)"), now: Self.morning) }
        #expect(decisions.filter { if case .admit = $0 { true } else { false } }.count == 5)
        guard case .refuse(let refusal) = decisions[5] else {
            Issue.record("the sixth call was admitted")
            return
        }
        #expect(refusal.kind == .budget)
        #expect(refusal.retryAfterSeconds == nil, "session budgets are lifetime: no Retry-After")
        #expect(refusal.message.contains("Session budget of $0.0513"))
        #expect(refusal.message.contains("Session: s1"))
    }

    @Test func settlingACheapCallFreesTheRestOfItsReservation() {
        var state = Self.state { $0.sessionBudget = Self.callCost.usd * 2 + 0.001 }
        #expect(state.admit(Self.request("a"), now: Self.morning) == .admit(reserved: Self.callCost))
        #expect(state.admit(Self.request("b"), now: Self.morning) == .admit(reserved: Self.callCost))
        #expect(state.admit(Self.request("c"), now: Self.morning) != .admit(reserved: Self.callCost))
        state.settle(
            actionID: "a", costUSD: 0.001, keys: SpendLedger.Keys(sessionID: "s1"), arrivedAt: Self.morning, now: Self.morning)
        #expect(state.admit(Self.request("c"), now: Self.morning) == .admit(reserved: Self.callCost))
        #expect(state.ledger.sessionCommitted("s1") == Nanodollars(usd: 0.001) + Self.callCost + Self.callCost)
    }

    @Test func aBudgetOfZeroRefusesEverythingAndUnsetIsOff() {
        var zero = Self.state { $0.dailyBudget = 0 }
        guard case .refuse(let refusal) = zero.admit(Self.request("a", session: nil), now: Self.morning) else {
            Issue.record("a zero budget admitted a call")
            return
        }
        #expect(refusal.message.hasPrefix("Daily budget of $0.0000 exceeded"))
        var off = Self.state { _ in }
        #expect(off.admit(Self.request("a"), now: Self.morning) == .admit(reserved: Self.callCost))
        #expect(off.ledger.reservationCount == 0, "with no budget nothing is held")
    }

    @Test func dailyBudgetsRetryAfterMidnightAndRestartThere() {
        var state = Self.state { $0.agentBudget = 0.02 }
        state.settle(
            actionID: "old", costUSD: 0.015, keys: SpendLedger.Keys(agentName: "writer"), arrivedAt: Self.morning,
            now: Self.morning)
        guard case .refuse(let refusal) = state.admit(Self.request("a", session: nil, agent: "writer"), now: Self.morning)
        else {
            Issue.record("the agent budget was not enforced")
            return
        }
        #expect(refusal.retryAfterSeconds == 14 * 3600, "10:00 UTC is 14 hours before midnight")
        #expect(refusal.message.contains("Agent: writer"))
        #expect(
            state.admit(Self.request("b", session: nil, agent: "reader"), now: Self.morning) == .admit(reserved: Self.callCost))
        let tomorrow = Self.morning + 14 * 3600 * 1_000_000
        #expect(state.admit(Self.request("c", session: nil, agent: "writer"), now: tomorrow) == .admit(reserved: Self.callCost))
    }

    @Test func aLateRecordFromYesterdayCountsForItsSessionOnly() {
        var state = Self.state {
            $0.dailyBudget = 1
            $0.sessionBudget = 1
        }
        let yesterday = Self.morning - 86_400_000_000
        state.settle(
            actionID: "late", costUSD: 0.5, keys: SpendLedger.Keys(sessionID: "s1"), arrivedAt: yesterday, now: Self.morning)
        #expect(state.ledger.dailyCommitted == .zero)
        #expect(state.ledger.sessionCommitted("s1") == Nanodollars(usd: 0.5))
    }

    @Test func seededSpendFromTheStoreCountsAfterARestart() {
        var state = Self.state { $0.userBudget = 0.05 }
        state.seedToday(total: Nanodollars(usd: 0.045), byAgent: [:], byUser: ["ann": Nanodollars(usd: 0.045)])
        guard case .refuse(let refusal) = state.admit(Self.request("a", session: nil, user: "ann"), now: Self.morning) else {
            Issue.record("the morning's spend was forgotten")
            return
        }
        #expect(refusal.message.contains("User daily budget of $0.0500"))
        #expect(refusal.message.contains("$0.0450"))
    }

    @Test func aSessionWhoseSpendIsStillLoadingIsReportedAndSettlementsDuringTheLoadAreKept() {
        var policy = EnforcementPolicy()
        policy.sessionBudget = 1
        var state = EnforcementState(policy: policy, prices: .builtIn, now: Self.morning)
        #expect(state.sessionToLoad(for: Self.request("a", session: "s9")) == "s9")
        state.beginLoading(session: "s9")
        #expect(state.sessionToLoad(for: Self.request("b", session: "s9")) == "s9", "a loading session is not judged yet")
        state.settle(
            actionID: "x", costUSD: 0.25, keys: SpendLedger.Keys(sessionID: "s9"), arrivedAt: Self.morning, now: Self.morning)
        state.finishLoading(session: "s9", stored: Nanodollars(usd: 0.5), now: Self.morning)
        #expect(state.sessionToLoad(for: Self.request("a", session: "s9")) == nil)
        #expect(state.ledger.sessionCommitted("s9") == Nanodollars(usd: 0.75))
    }

    @Test func reservationsWhoseRecordsNeverComeExpire() {
        var state = Self.state {
            $0.dailyBudget = Self.callCost.usd
            $0.reservationLifetimeMicros = 5 * Self.minute
        }
        #expect(state.admit(Self.request("lost"), now: Self.morning) == .admit(reserved: Self.callCost))
        #expect(state.admit(Self.request("next"), now: Self.morning) != .admit(reserved: Self.callCost))
        #expect(state.sweep(now: Self.morning + 4 * Self.minute) == 0)
        #expect(state.sweep(now: Self.morning + 5 * Self.minute) == 1)
        #expect(state.admit(Self.request("next"), now: Self.morning + 5 * Self.minute) == .admit(reserved: Self.callCost))
    }

    @Test func theSessionRateLimitRefusesTheNPlusFirstAndPassesAgainAfterTheWindowSlides() {
        var state = Self.state { $0.sessionRPM = 3 }
        for second in 0..<3 {
            #expect(
                state.admit(Self.request("a\(second)"), now: Self.morning + Int64(second) * 1_000_000)
                    == .admit(reserved: Self.callCost))
        }
        let now = Self.morning + 10_000_000
        guard case .refuse(let refusal) = state.admit(Self.request("a3"), now: now) else {
            Issue.record("the fourth call in a minute was admitted")
            return
        }
        #expect(refusal.kind == .rateLimit)
        #expect(refusal.retryAfterSeconds == 50)
        #expect(
            refusal.message
                == "Session rate limit of 3 requests per minute exceeded (current: 3) for session s1. Retry after 50 s.")
        #expect(state.admit(Self.request("other", session: "s2"), now: now) == .admit(reserved: Self.callCost))
        #expect(state.admit(Self.request("a4"), now: Self.morning + Self.minute) == .admit(reserved: Self.callCost))
    }

    @Test func aCallRefusedByABudgetIsNotCountedAgainstTheRateWindow() {
        var state = Self.state {
            $0.globalRPM = 2
            $0.dailyBudget = Self.callCost.usd
        }
        #expect(state.admit(Self.request("a"), now: Self.morning) == .admit(reserved: Self.callCost))
        for index in 0..<5 {
            guard case .refuse(let refusal) = state.admit(Self.request("b\(index)"), now: Self.morning) else { continue }
            #expect(refusal.kind == .budget)
        }
        state.settle(actionID: "a", costUSD: 0, keys: SpendLedger.Keys(), arrivedAt: Self.morning, now: Self.morning)
        #expect(state.admit(Self.request("c"), now: Self.morning) == .admit(reserved: Self.callCost))
    }

    @Test func idleRateKeysAndSessionsAreForgotten() {
        var state = Self.state {
            $0.agentRPM = 10
            $0.sessionBudget = 1
            $0.sessionIdleMicros = 10 * Self.minute
        }
        for index in 0..<100 {
            _ = state.admit(Self.request("a\(index)", session: "s1", agent: "agent-\(index)"), now: Self.morning)
            state.settle(
                actionID: "a\(index)", costUSD: 0, keys: SpendLedger.Keys(sessionID: "s1"), arrivedAt: Self.morning,
                now: Self.morning)
        }
        #expect(state.rateKeyCount == 100)
        _ = state.sweep(now: Self.morning + 2 * Self.minute)
        #expect(state.rateKeyCount == 0)
        #expect(state.ledger.sessionCount == 1)
        _ = state.sweep(now: Self.morning + 11 * Self.minute)
        #expect(state.ledger.sessionCount == 0)
    }

    @Test func onlyReservationsWithoutARecordExpireAndAReplayedAdmitHoldsOnce() {
        var ledger = SpendLedger(now: Self.morning)
        let keys = SpendLedger.Keys(sessionID: "s1", agentName: "writer", userID: "ann")
        let amount = Nanodollars(1_000)
        for index in 0..<3_000 {
            ledger.reserve("call-\(index)", amount: amount, keys: keys, now: Self.morning, lifetime: Self.minute)
            if index % 1_000 != 0 {
                ledger.settle("call-\(index)", cost: .zero, keys: keys, arrivedAt: Self.morning, now: Self.morning)
            }
        }
        ledger.reserve("call-0", amount: amount, keys: keys, now: Self.morning, lifetime: Self.minute)
        #expect(ledger.reservationCount == 3)
        #expect(ledger.dailyCommitted == Nanodollars(3_000), "a replayed ADMIT replaces its reservation")
        #expect(ledger.agentCommitted("writer") == Nanodollars(3_000))
        #expect(ledger.sweep(now: Self.morning + Self.minute - 1, sessionIdle: Self.minute) == 0)
        #expect(ledger.sweep(now: Self.morning + Self.minute, sessionIdle: Self.minute) == 3)
        #expect(ledger.dailyCommitted == .zero)
        #expect(ledger.agentCommitted("writer") == .zero)
        #expect(ledger.userCommitted("ann") == .zero)
        #expect(ledger.reservationCount == 0)
    }
}
