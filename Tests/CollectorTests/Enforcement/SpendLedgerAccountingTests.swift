import LedgerTestSupport
import Testing

@testable import Collector

/// Every scope goes through the same accounting: random reservations, replays, settlements (some late, some without
/// a reservation, some of costs near the top of 64 bits) and expiries over random keys, checked after each step
/// against a plain model of what every (scope, key) account must show.
@Suite struct SpendLedgerAccountingTests {
    static let morning = EnforcementStateTests.morning
    static let second: Int64 = 1_000_000
    static let lifetime = 30 * second
    static let keyNames = ["a", "b", "c"]

    /// What the ledger must hold: the reservations in flight, and per account what settled.
    struct Model {
        var reservations: [String: (amount: Nanodollars, keys: SpendLedger.Keys, expiresAt: Int64)] = [:]
        var spent: [SpendLedger.AccountID: Nanodollars] = [:]

        func held(_ id: SpendLedger.AccountID) -> Nanodollars {
            reservations.values.reduce(Nanodollars.zero) { sum, reservation in
                reservation.keys[id.scope] == id.key ? sum + reservation.amount : sum
            }
        }
    }

    static func randomKeys(_ random: inout SplitMix64) -> SpendLedger.Keys {
        func key() -> String? { Bool.random(using: &random) ? keyNames.randomElement(using: &random) : nil }
        // The same names in every scope: session "a" and agent "a" must still be different accounts.
        return SpendLedger.Keys(sessionID: key(), agentName: key(), userID: key(), appID: key(), model: key(), environment: key())
    }

    static var accountIDs: [SpendLedger.AccountID] {
        BudgetScope.allCases.flatMap { scope in
            scope == .fleet ? [SpendLedger.AccountID(scope, "")] : keyNames.map { SpendLedger.AccountID(scope, $0) }
        }
    }

    static func check(_ ledger: SpendLedger, against model: Model, step: Int, seed: UInt64) {
        #expect(ledger.reservationCount == model.reservations.count, "seed \(seed), step \(step)")
        for id in accountIDs {
            let account = ledger.account(id.scope, id.key)
            let held = account?.held ?? .zero
            let spent = account?.spent ?? .zero
            #expect(held >= .zero, "seed \(seed), step \(step): \(id) holds \(held)")
            #expect(held == model.held(id), "seed \(seed), step \(step): \(id) holds \(held)")
            #expect(spent == model.spent[id, default: .zero], "seed \(seed), step \(step): \(id) spent \(spent)")
        }
    }

    @Test(arguments: 1...24 as ClosedRange<UInt64>)
    func randomSequencesKeepEveryAccountEqualToItsModel(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        var ledger = SpendLedger(now: Self.morning)
        for key in Self.keyNames {
            ledger.beginLoading(.session, key)
            ledger.finishLoading(.session, key, stored: .zero, now: Self.morning)
        }
        var model = Model()
        var now = Self.morning
        let actions = (0..<24).map { "call-\($0)" }
        for step in 0..<400 {
            let action = actions.randomElement(using: &random)!
            switch Int.random(in: 0..<10, using: &random) {
            case 0..<4:
                // Small amounts: held sums stay below saturation, so they must match exactly.
                let amount = Nanodollars(Int64.random(in: 0...5_000_000, using: &random))
                let keys = Self.randomKeys(&random)
                ledger.reserve(action, amount: amount, keys: keys, now: now, lifetime: Self.lifetime)
                model.reservations[action] = (amount, keys, now + Self.lifetime)
            case 4..<8:
                let huge = Int.random(in: 0..<20, using: &random) == 0
                let cost = Nanodollars(
                    huge
                        ? Int64.random(in: (.max / 4)...(.max / 2), using: &random)
                        : Int64.random(in: 0...3_000_000, using: &random))
                let keys = model.reservations[action]?.keys ?? Self.randomKeys(&random)
                let late = Int.random(in: 0..<8, using: &random) == 0
                ledger.settle(action, cost: cost, keys: keys, arrivedAt: late ? now - 86_400 * Self.second : now, now: now)
                model.reservations[action] = nil
                for scope in BudgetScope.allCases where !late || scope.defaultPeriod == .lifetime {
                    guard let key = keys[scope] else { continue }
                    model.spent[SpendLedger.AccountID(scope, key), default: .zero] += cost
                }
            default:
                now += Int64.random(in: 0...(10 * Self.second), using: &random)
                let expired = ledger.sweep(now: now, sessionIdle: 86_400 * Self.second)
                let due = model.reservations.filter { $0.value.expiresAt <= now }.map(\.key)
                for action in due { model.reservations[action] = nil }
                #expect(expired == due.count, "seed \(seed), step \(step)")
            }
            Self.check(ledger, against: model, step: step, seed: seed)
        }
        // Midnight: every daily account restarts, lifetime ones keep their spend, and what was held yesterday is
        // never taken off the new day.
        let tomorrow = SpendLedger.dayStart(of: now) + SpendLedger.microsPerDay
        ledger.advance(to: tomorrow)
        for (action, reservation) in model.reservations {
            ledger.settle(action, cost: .zero, keys: reservation.keys, arrivedAt: tomorrow, now: tomorrow)
        }
        model.reservations = [:]
        model.spent = model.spent.filter { $0.key.scope.defaultPeriod == .lifetime }
        Self.check(ledger, against: model, step: -1, seed: seed)
    }

    @Test func aCallWithTheSameKeyInEveryScopeLeavesTheSameFiguresInEveryAccount() {
        var ledger = SpendLedger(now: Self.morning)
        ledger.beginLoading(.session, "k")
        ledger.finishLoading(.session, "k", stored: .zero, now: Self.morning)
        let keys = SpendLedger.Keys(sessionID: "k", agentName: "k", userID: "k", appID: "k", model: "k", environment: "k")
        for index in 0..<10 {
            ledger.reserve("r\(index)", amount: Nanodollars(1_000), keys: keys, now: Self.morning, lifetime: Self.lifetime)
        }
        for index in 0..<5 {
            ledger.settle("r\(index)", cost: Nanodollars(300), keys: keys, arrivedAt: Self.morning, now: Self.morning)
        }
        let figures = BudgetScope.allCases.map { scope in
            ledger.account(scope, scope == .fleet ? "" : "k").map { [$0.spent, $0.held] }
        }
        let expected: [[Nanodollars]?] = Array(
            repeating: [Nanodollars(1_500), Nanodollars(5_000)], count: BudgetScope.allCases.count)
        #expect(figures == expected)
    }

    @Test func aLedgerAccountsOnlyTheScopesItIsGiven() {
        var ledger = SpendLedger(now: Self.morning, scopes: [.app, .fleet, .app])
        #expect(ledger.scopes == [.app, .fleet])
        let keys = SpendLedger.Keys(sessionID: "s", agentName: "w", userID: "u", appID: "billing")
        ledger.reserve("a", amount: Nanodollars(10), keys: keys, now: Self.morning, lifetime: Self.lifetime)
        ledger.settle("b", cost: Nanodollars(5), keys: keys, arrivedAt: Self.morning, now: Self.morning)
        #expect(ledger.accountCount == 2)
        #expect(ledger.appCommitted("billing") == Nanodollars(15))
        #expect(ledger.dailyCommitted == Nanodollars(15))
        #expect(ledger.agentCommitted("w") == .zero)
    }

    @Test func aReplayedAdmitMadeLaterStillExpires() {
        var ledger = SpendLedger(now: Self.morning)
        let keys = SpendLedger.Keys(appID: "billing")
        ledger.reserve("a", amount: Nanodollars(10), keys: keys, now: Self.morning, lifetime: Self.lifetime)
        ledger.reserve("a", amount: Nanodollars(10), keys: keys, now: Self.morning + Self.second, lifetime: Self.lifetime)
        #expect(ledger.sweep(now: Self.morning + Self.lifetime, sessionIdle: Self.lifetime) == 0)
        #expect(ledger.sweep(now: Self.morning + Self.lifetime + Self.second, sessionIdle: Self.lifetime) == 1)
        #expect(ledger.appCommitted("billing") == .zero)
    }

    /// A record's time is the sidecar's word: the ends of 64 bits belong to no day today and trap nothing.
    @Test func recordTimesAtTheEndsOfSixtyFourBitsCountForNoDay() {
        #expect(SpendLedger.dayStart(of: .min) == .min)
        #expect(SpendLedger.dayStart(of: .max) <= .max)
        #expect(SpendLedger.dayStart(of: -1) == -SpendLedger.microsPerDay)
        var ledger = SpendLedger(now: Self.morning)
        ledger.beginLoading(.session, "s")
        ledger.finishLoading(.session, "s", stored: .zero, now: Self.morning)
        let keys = SpendLedger.Keys(sessionID: "s", appID: "billing")
        for time in [Int64.min, .min + 1, -1, .max] {
            ledger.settle("x", cost: Nanodollars(7), keys: keys, arrivedAt: time, now: Self.morning)
        }
        #expect(ledger.appCommitted("billing") == .zero)
        #expect(ledger.sessionCommitted("s") == Nanodollars(28))
        ledger.reserve("y", amount: Nanodollars(1), keys: keys, now: Self.morning, lifetime: .max)
        #expect(ledger.sweep(now: .max - 1, sessionIdle: 0) == 0)
    }

    @Test func saturatedSpendStaysAtTheTopAndStillRefuses() {
        var policy = EnforcementPolicy()
        policy.appBudget = 1
        var state = EnforcementState(policy: policy, prices: .builtIn, now: Self.morning)
        for index in 0..<3 {
            state.settle(
                actionID: "x\(index)", costUSD: 9e9, keys: SpendLedger.Keys(appID: "billing"), arrivedAt: Self.morning,
                now: Self.morning)
        }
        #expect(state.ledger.appCommitted("billing") == Nanodollars(.max))
        guard case .refuse(let refusal) = state.admit(AppBudgetTests.request("a", app: "billing"), now: Self.morning) else {
            Issue.record("a saturated spend admitted a call")
            return
        }
        #expect(refusal.message.hasPrefix("App daily budget of $1.0000 exceeded"))
    }
}
