import Testing

@testable import Collector

/// Budgets are a list of (scope, limit), one per scope, kept in check order whatever order they were set in.
@Suite struct EnforcementPolicyTests {
    @Test func eachScopesPropertyReadsAndWritesItsBudget() {
        var policy = EnforcementPolicy()
        #expect(!policy.hasBudgets)
        policy.dailyBudget = 10
        policy.appBudget = 3
        policy.sessionBudget = 1
        policy.userBudget = 0
        policy.agentBudget = 2
        #expect(policy.budgets.map(\.scope) == [.session, .agent, .user, .app, .fleet])
        #expect(policy.budgets.map(\.limitUSD) == [1, 2, 0, 3, 10])
        #expect(
            [policy.sessionBudget, policy.agentBudget, policy.userBudget, policy.appBudget, policy.dailyBudget]
                == [1, 2, 0, 3, 10])
        #expect(policy.budgets.map { policy.period(of: $0.scope) } == [.lifetime, .day, .day, .day, .day])
        #expect(policy.isActive)

        policy.appBudget = 4
        #expect(policy[budget: .app] == 4)
        #expect(policy.budgets.count == 5, "setting a scope's budget replaces it")
        policy.userBudget = nil
        #expect(policy.budgets.map(\.scope) == [.session, .agent, .app, .fleet])
    }

    @Test func policiesWithTheSameBudgetsAreEqualWhateverTheOrderTheyWereSetIn() {
        var first = EnforcementPolicy()
        first.appBudget = 1
        first.sessionBudget = 2
        var second = EnforcementPolicy()
        second.sessionBudget = 2
        second.appBudget = 1
        #expect(first == second)
        second.appBudget = nil
        #expect(first != second)
        second.appBudget = 1
        #expect(first == second)
    }

    @Test func anAppBudgetAloneMakesSidecarsAsk() {
        var policy = EnforcementPolicy()
        policy.appBudget = 0
        #expect(policy.hasBudgets)
        #expect(policy.isActive)
    }
}
