import LedgerProtocol
import LedgerTestSupport
import Synchronization
import Testing

@testable import Collector

/// Limits changed at run time: checked, stored with their audit entry, applied to the next admission, kept across a
/// restart, and removed back to the configured limit.
@Suite struct PolicyEditorTests {
    static let morning = EnforcementStateTests.morning

    static func request(_ id: String, agent: String) -> AdmissionRequest {
        AdmissionRequest(
            actionID: id, keys: SpendLedger.Keys(agentName: agent), model: "gpt-4o", bodyBytes: 400, maxTokens: 1000)
    }

    static var configured: EnforcementPolicy {
        var policy = EnforcementPolicy()
        policy.admissionMode = .strict
        policy.agentBudget = 1
        return policy
    }

    @Test func overridesAreCheckedWithErrorsThatSayWhatToDo() {
        func error(_ override: PolicyOverride) -> String? {
            do {
                _ = try override.validated()
                return nil
            } catch {
                return error.description
            }
        }
        #expect(error(PolicyOverride(kind: .budget, scope: "agent", key: "research", limit: 200)) == nil)
        #expect(error(PolicyOverride(kind: .budget, scope: "fleet", key: "*", limit: nil)) == nil)
        #expect(error(PolicyOverride(kind: .budget, scope: "team", key: "*", limit: 1))?.contains("not a budget scope") == true)
        #expect(error(PolicyOverride(kind: .budget, scope: "agent", key: "a", limit: -1))?.contains("from 0") == true)
        #expect(error(PolicyOverride(kind: .budget, scope: "agent", key: "a", limit: .nan))?.contains("from 0") == true)
        #expect(error(PolicyOverride(kind: .budget, scope: "fleet", key: "x", limit: 5))?.contains("use the key *") == true)
        #expect(error(PolicyOverride(kind: .budget, scope: "agent", key: "a", limit: nil))?.contains("DELETE") == true)
        #expect(error(PolicyOverride(kind: .rateLimit, scope: "user", key: "u", limit: 1.5))?.contains("whole number") == true)
        #expect(error(PolicyOverride(kind: .rateLimit, scope: "app", key: "*", limit: 1))?.contains("rate-limit scope") == true)
        #expect(error(PolicyOverride(kind: .rateLimit, scope: "agent", key: "", limit: 1))?.contains("1 to 256") == true)
    }

    @Test func overridesApplyOverTheConfiguredLimits() {
        let policy = Self.configured.applying([
            PolicyOverride(kind: .budget, scope: "agent", key: "research", limit: 200),
            PolicyOverride(kind: .budget, scope: "agent", key: "*", limit: 5),
            PolicyOverride(kind: .budget, scope: "fleet", key: "*", limit: 1000),
            PolicyOverride(kind: .rateLimit, scope: "global", key: "*", limit: 600),
            PolicyOverride(kind: .rateLimit, scope: "user", key: "u1", limit: 10),
        ])
        #expect(policy.agentBudget == 5)
        #expect(policy[keyBudgets: .agent] == ["research": 200])
        #expect(policy.dailyBudget == 1000)
        #expect(policy.globalRPM == 600)
        #expect(policy.rpm(.user, key: "u1") == 10)
        #expect(policy.limit(at: .init(kind: .budget, scope: "agent", key: "research")) == 200)
        #expect(policy.limit(at: .init(kind: .rateLimit, scope: "global", key: "*")) == 600)
        let off = policy.applying([PolicyOverride(kind: .budget, scope: "agent", key: "*", limit: nil)])
        #expect(off.agentBudget == nil && off[keyBudgets: .agent] == ["research": 200], "the default is off, the key kept")
    }

    @Test func aLimitChangedInTheStateJudgesTheNextAdmissionWithTheSpendKept() {
        var state = EnforcementState(policy: Self.configured, prices: .builtIn, now: Self.morning)
        #expect(state.admit(Self.request("a", agent: "bot"), now: Self.morning) != nil)
        let held = state.ledger.agentCommitted("bot")
        #expect(held > .zero)
        state.replaceLimits(with: Self.configured.applying([PolicyOverride(kind: .budget, scope: "agent", key: "bot", limit: 0)]))
        guard case .refuse(let refusal) = state.admit(Self.request("b", agent: "bot"), now: Self.morning) else {
            Issue.record("a call was admitted after the agent's budget was set to zero")
            return
        }
        #expect(refusal.kind == .budget)
        #expect(state.ledger.agentCommitted("bot") == held, "the reservation made before the change is still held")
        #expect(state.admit(Self.request("c", agent: "other"), now: Self.morning) == .admit(reserved: held))
    }

    /// No budget at all at start: nothing is accounted (a fleet of a million users costs no memory per user). A budget
    /// set later starts from the period's spend as the store has it, read before the limit applies.
    @Test(arguments: StoreKind.testable)
    func aBudgetSetWhereNoneWasStartsFromTheSpendInTheStore(kind: StoreKind) async throws {
        try await kind.withStore { store in
            var record = CallRecord.stored("x", at: Self.morning, cost: 0.5)
            record.agentName = "bot"
            _ = try await store.insert([record])
            var policy = EnforcementPolicy()
            policy.admissionMode = .strict
            let enforcer = Enforcer(
                policy: policy, prices: .builtIn, store: store, logger: Integration.logger, now: { Self.morning + 1 })
            #expect(enforcer.inspect { $0.ledger.scopes.isEmpty && $0.ledger.accountCount == 0 })
            enforcer.settle([record], newActionIDs: ["x"])
            #expect(enforcer.inspect { $0.ledger.accountCount } == 0, "nothing is limited: nothing kept")
            var limited = policy
            limited.agentBudget = 0.5
            try await enforcer.prepareLimits(limited)
            #expect(!enforcer.isActive, "prepared, not applied")
            enforcer.replaceLimits(with: limited)
            #expect(enforcer.isActive)
            #expect(enforcer.inspect { $0.ledger.agentCommitted("bot") } == Nanodollars(usd: 0.5))
            let admit = Admit(requestID: 1, actionID: "y", agentName: "bot", model: "gpt-4o", bodyBytes: 400, maxTokens: 100)
            #expect(enforcer.immediateVerdict(for: admit)?.decision == .refuse)
            // Removing the budget stops accounting the scope.
            enforcer.replaceLimits(with: policy)
            #expect(enforcer.inspect { $0.ledger.scopes.isEmpty && $0.ledger.accountCount == 0 })
        }
    }

    @Test(arguments: StoreKind.testable)
    func changesAreStoredAuditedAndKeptAcrossARestart(kind: StoreKind) async throws {
        try await kind.withStore { store in
            let enforcer = Enforcer(policy: Self.configured, prices: .builtIn, store: store, logger: Integration.logger)
            let announced = Counter()
            let editor = PolicyEditor(
                configured: Self.configured, store: store, enforcer: enforcer, logger: Integration.logger,
                announce: { announced.add() })
            try await editor.load()
            #expect(announced.value == 0, "nothing stored, nothing to announce")

            let set = try await editor.set(
                PolicyOverride(kind: .budget, scope: "agent", key: "research", limit: 200), actor: "ops@example.com",
                client: "curl/8.0")
            #expect(set.before == 1 && set.after == 200 && set.action == .set)
            #expect(enforcer.policy.limit(at: set.target) == 200)
            _ = try await editor.set(
                PolicyOverride(kind: .budget, scope: "agent", key: "research", limit: 300), actor: "ops", client: "")
            _ = try await editor.set(
                PolicyOverride(kind: .rateLimit, scope: "global", key: "*", limit: 600), actor: "ops", client: "")
            await #expect(throws: PolicyOverrideError.self) {
                try await editor.set(PolicyOverride(kind: .budget, scope: "fleet", key: "x", limit: 1), actor: "", client: "")
            }
            #expect(announced.value == 3)

            // A new collector on the same store starts with the stored limits.
            let restarted = Enforcer(policy: Self.configured, prices: .builtIn, store: store, logger: Integration.logger)
            let again = PolicyEditor(configured: Self.configured, store: store, enforcer: restarted, logger: Integration.logger)
            try await again.load()
            #expect(restarted.policy.limit(at: set.target) == 300)
            #expect(restarted.policy.globalRPM == 600)
            #expect(try await again.current().count == 2)

            let removed = try #require(try await again.remove(set.target, actor: "ops", client: ""))
            #expect(removed.before == 300 && removed.after == 1 && removed.action == .removed)
            #expect(restarted.policy[keyBudgets: .agent] == [:], "back to the configured limits: $1 for every agent")
            #expect(try await again.remove(set.target, actor: "ops", client: "") == nil)

            let trail = try await store.policyChanges(limit: 10)
            #expect(trail.map(\.action) == [.removed, .set, .set, .set])
            #expect(trail.last?.actor == "ops@example.com" && trail.last?.client == "curl/8.0")
            #expect(trail.map(\.after) == [1, 600, 300, 200])
            #expect(try await store.policyOverrides().map(\.target.scope) == ["global"])
        }
    }
}

/// Counts calls from any thread.
private final class Counter: Sendable {
    private let count = Mutex(0)
    func add() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}
