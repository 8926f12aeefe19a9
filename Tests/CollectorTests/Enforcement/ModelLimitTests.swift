import LedgerProtocol
import LedgerTestSupport
import Testing

@testable import Collector

/// Limits per model (`budgets.model` and `rate_limits.model` in the policy file): the model a call asks for is a key
/// like an agent or a user, judged, held and settled the same way, and read back from the store after a restart.
@Suite struct ModelLimitTests {
    static let morning = EnforcementStateTests.morning

    static func request(_ id: String, model: String, agent: String = "bot") -> AdmissionRequest {
        AdmissionRequest(
            actionID: id, keys: SpendLedger.Keys(agentName: agent, model: model), model: model, bodyBytes: 400,
            maxTokens: 1000)
    }

    @Test func aModelsBudgetLimitsThatModelAloneAndNamesItInTheRefusal() throws {
        var policy = EnforcementPolicy()
        policy.admissionMode = .strict
        try PolicyFile.apply("budgets:\n  model: {gpt-4o: 0.015}\n", to: &policy, path: "p.yaml")
        var state = EnforcementState(policy: policy, prices: .builtIn, now: Self.morning)
        #expect(
            state.admit(Self.request("a", model: "gpt-4o"), now: Self.morning) == .admit(reserved: EnforcementStateTests.callCost)
        )
        guard case .refuse(let refusal) = state.admit(Self.request("b", model: "gpt-4o"), now: Self.morning) else {
            Issue.record("a second gpt-4o call was admitted past the model's budget")
            return
        }
        #expect(refusal.message.hasPrefix("Model daily budget of $0.0150 exceeded"))
        #expect(refusal.message.contains("Model: gpt-4o. A max_tokens of"))
        guard case .admit = state.admit(Self.request("c", model: "gpt-4o-mini"), now: Self.morning) else {
            Issue.record("another model was refused by gpt-4o's budget")
            return
        }
        // Settling counts the real cost against the model: the reservation's headroom comes back.
        state.settle(
            actionID: "a", costUSD: 0.001, keys: SpendLedger.Keys(agentName: "bot", model: "gpt-4o"), arrivedAt: Self.morning,
            now: Self.morning)
        #expect(state.ledger.committed(.model, "gpt-4o") == Nanodollars(usd: 0.001))
        #expect(state.admit(Self.request("b", model: "gpt-4o"), now: Self.morning) != nil)
    }

    @Test func aModelsRateLimitCountsItsRequests() throws {
        var policy = EnforcementPolicy()
        try PolicyFile.apply("rate_limits:\n  model: {\"*\": 5, gpt-4o: 2}\n", to: &policy, path: "p.yaml")
        var state = EnforcementState(policy: policy, prices: .builtIn, now: Self.morning)
        let admitted = (0..<4).map { state.admit(Self.request("o\($0)", model: "gpt-4o"), now: Self.morning) }
        #expect(admitted.filter { if case .admit = $0 { true } else { false } }.count == 2)
        guard case .refuse(let refusal) = admitted[2] else {
            Issue.record("the third gpt-4o request in a minute was admitted")
            return
        }
        #expect(refusal.kind == .rateLimit && refusal.message.contains("for model gpt-4o"))
        let others = (0..<6).map { state.admit(Self.request("m\($0)", model: "gpt-4o-mini"), now: Self.morning) }
        #expect(others.filter { if case .admit = $0 { true } else { false } }.count == 5, "the default for every model")
    }

    @Test(arguments: StoreKind.testable)
    func aRestartReadsEachModelsSpend(kind: StoreKind) async throws {
        try await kind.withStore { store in
            var big = CallRecord.stored("a", at: Self.morning, cost: 0.5)
            big.modelID = "gpt-4o"
            var small = CallRecord.stored("b", at: Self.morning, cost: 0.25)
            small.modelID = "gpt-4o-mini"
            _ = try await store.insert([big, small])
            var policy = EnforcementPolicy()
            policy[keyBudgets: .model] = ["gpt-4o": 10]
            let enforcer = Enforcer(
                policy: policy, prices: .builtIn, store: store, logger: Integration.logger, now: { Self.morning + 1 })
            try await enforcer.seedSpend()
            #expect(enforcer.inspect { $0.ledger.committed(.model, "gpt-4o") } == Nanodollars(usd: 0.5))
            #expect(enforcer.inspect { $0.ledger.committed(.model, "gpt-4o-mini") } == Nanodollars(usd: 0.25))
        }
    }
}
