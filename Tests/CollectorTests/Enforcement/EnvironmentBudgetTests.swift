import Foundation
import LedgerProtocol
import Testing

@testable import Collector

/// The environment scope: a budget per `x-agentledger-environment` per period, judged from the environment an ADMIT
/// carries on a version-2 link, settled from stored records, seeded from the store, handed to the next enforcer.
@Suite struct EnvironmentBudgetTests {
    static let morning = EnforcementStateTests.morning
    static let callCost = EnforcementStateTests.callCost

    static func request(_ id: String, environment: String?) -> AdmissionRequest {
        AdmissionRequest(
            actionID: id, keys: SpendLedger.Keys(environment: environment), model: "gpt-4o", bodyBytes: 400, maxTokens: 1000)
    }

    static func state(_ budgets: String) throws -> EnforcementState {
        var policy = EnforcementPolicy()
        policy.admissionMode = .strict
        try PolicyFile.apply(budgets, to: &policy, path: "policy.yaml")
        return EnforcementState(policy: policy, prices: .builtIn, now: morning)
    }

    @Test func eachEnvironmentHasItsOwnLimit() throws {
        let limit = (Self.callCost + Self.callCost).usd
        var state = try Self.state("budgets: {environment: {prod: \(limit), staging: \(Self.callCost.usd)}}")
        #expect(state.admit(Self.request("a", environment: "prod"), now: Self.morning) == .admit(reserved: Self.callCost))
        #expect(state.admit(Self.request("b", environment: "prod"), now: Self.morning) == .admit(reserved: Self.callCost))
        guard case .refuse(let refusal) = state.admit(Self.request("c", environment: "prod"), now: Self.morning) else {
            Issue.record("the third call was admitted past prod's budget")
            return
        }
        #expect(refusal.kind == .budget)
        #expect(refusal.message.hasPrefix("Environment daily budget of"))
        #expect(refusal.message.hasSuffix("Environment: prod."))
        #expect(state.admit(Self.request("d", environment: "staging"), now: Self.morning) == .admit(reserved: Self.callCost))
        #expect(state.admit(Self.request("e", environment: "staging"), now: Self.morning) != .admit(reserved: Self.callCost))
        #expect(
            state.admit(Self.request("f", environment: nil), now: Self.morning) == .admit(reserved: Self.callCost),
            "a call without an environment has no environment budget")
        #expect(
            state.admit(Self.request("g", environment: "dev"), now: Self.morning) == .admit(reserved: Self.callCost),
            "an environment the policy does not name has no limit")
    }

    @Test func settledAndSeededSpendCounts() throws {
        var state = try Self.state("budgets: {environment: {\"*\": 0.01}}")
        state.settle(
            actionID: "x", costUSD: 0.009, keys: SpendLedger.Keys(environment: "prod"), arrivedAt: Self.morning,
            now: Self.morning)
        #expect(state.ledger.committed(.environment, "prod") == Nanodollars(usd: 0.009))
        #expect(state.admit(Self.request("a", environment: "prod"), now: Self.morning) != .admit(reserved: Self.callCost))
        state.seed([.environment: ["prod": Nanodollars(usd: 0.001)]], only: [.environment])
        #expect(state.ledger.committed(.environment, "prod") == Nanodollars(usd: 0.001))
    }

    @Test func aHeldReservationKeepsItsEnvironmentAcrossTheHandOver() throws {
        let held = HeldReservation(
            actionID: "a", amount: 5, keys: SpendLedger.Keys(sessionID: "s", environment: "prod"), madeAt: 1)
        let decoded = try JSONDecoder().decode(HeldReservation.self, from: JSONEncoder().encode(held))
        #expect(decoded.keys.environment == "prod")
        #expect(decoded == held)
    }

    @Test func theScopeIsNamedEnvironmentInTheAPIAndThePolicyFile() {
        #expect(PolicyOverride.budgetScopes["environment"] == .environment)
    }

    /// The store's spend per environment, read on both stores, is what the enforcer seeds.
    @Test(arguments: StoreKind.testable)
    func theStoreSumsSpendPerEnvironment(kind: StoreKind) async throws {
        try await kind.withStore { store in
            var records: [CallRecord] = []
            for (index, (environment, cost)) in [("prod", 0.25), ("prod", 0.5), ("dev", 0.125)].enumerated() {
                var record = CallRecord.stored("env-\(index)", at: 1_790_000_000_000_000 + Int64(index), cost: cost)
                record.environment = environment
                records.append(record)
            }
            _ = try await store.insert(records)
            let totals = try await store.spend(sinceMicros: 0)
            #expect(totals.byEnvironment == ["prod": 0.75, "dev": 0.125])
        }
    }
}
