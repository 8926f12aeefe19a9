import Foundation
import Testing

@testable import Collector

/// `AGENTLEDGER_POLICY_FILE`: per-scope and per-key limits read from YAML or JSON, and admission judging each key by
/// its own limit.
@Suite struct PolicyFileTests {
    static func policy(_ text: String, over base: EnforcementPolicy = EnforcementPolicy()) throws -> EnforcementPolicy {
        var policy = base
        try PolicyFile.apply(text, to: &policy, path: "policy.yaml")
        return policy
    }

    static func refusal(_ text: String, over base: EnforcementPolicy = EnforcementPolicy()) -> String {
        do {
            _ = try policy(text, over: base)
            return "accepted"
        } catch {
            return "\(error)"
        }
    }

    @Test func yamlSetsDefaultsAndNamedKeysPerScope() throws {
        let policy = try Self.policy(
            """
            # a fleet's policy
            budgets:
              session: 2
              agent: {"*": 5, research: 200, summarizer: 0.5}
              user:
                customer-42: 50
                "007": 1
              fleet: 1000
            rate_limits:
              global: 10000
              agent: {"*": 600, research: 1200}
              user: {vip: 50}
            """)
        #expect(policy.sessionBudget == 2)
        #expect(policy.agentBudget == 5)
        #expect(policy[keyBudgets: .agent] == ["research": 200, "summarizer": 0.5])
        #expect(policy.userBudget == nil, "only the named users are limited")
        #expect(policy[keyBudgets: .user] == ["customer-42": 50, "007": 1], "a key that looks like a number stays text")
        #expect(policy.dailyBudget == 1000)
        #expect(policy.budgets.map(\.scope) == [.session, .agent, .user, .fleet])
        #expect(policy.globalRPM == 10000)
        #expect(policy.rpm(.agent, key: "research") == 1200)
        #expect(policy.rpm(.agent, key: "other") == 600)
        #expect(policy.rpm(.user, key: "vip") == 50)
        #expect(policy.rpm(.user, key: "anyone") == nil)
        #expect(policy.isActive)
    }

    @Test func jsonIsReadAlike() throws {
        let policy = try Self.policy(#"{"budgets": {"app": {"billing": 1000, "*": 10}}, "rate_limits": {"session": 30}}"#)
        #expect(policy.appBudget == 10)
        #expect(policy[keyBudgets: .app] == ["billing": 1000])
        #expect(policy.sessionRPM == 30)
    }

    @Test func theVariablesStayAsDefaultsButOneScopeIsSetInOnePlace() throws {
        var base = EnforcementPolicy()
        base.agentBudget = 5
        base.userRPM = 10
        let policy = try Self.policy("budgets: {agent: {research: 200}}", over: base)
        #expect(policy.agentBudget == 5)
        #expect(policy[keyBudgets: .agent] == ["research": 200])
        #expect(Self.refusal("budgets: {agent: 7}", over: base).contains("also set by AGENTLEDGER_BUDGET_AGENT"))
        #expect(
            Self.refusal("rate_limits: {user: {\"*\": 3}}", over: base).contains("also set by AGENTLEDGER_RATE_LIMIT_USER_RPM"))
    }

    @Test(arguments: [
        ("budgets: {team: 5}", "budgets.team is not a scope"),
        ("rate_limits: {app: 5}", "rate_limits.app is not a scope"),
        ("limits: {}", "limits is not a section"),
        ("budgets: {agent: -1}", "budgets.agent must be a number"),
        ("budgets: {agent: {x: five}}", "budgets.agent.x must be a number"),
        ("budgets: {agent: .nan}", "budgets.agent must be a number"),
        ("budgets: {fleet: {x: 1}}", "budgets.fleet must be a number"),
        ("rate_limits: {global: {x: 1}}", "rate_limits.global must be a number"),
        ("rate_limits: {agent: 2.5}", "rate_limits.agent must be a number"),
        ("budgets: {agent: 1e12}", "budgets.agent must be a number"),
        ("budgets: {agent: [1, 2]}", "budgets.agent must be a number or a mapping"),
        ("budgets: [1]", "budgets must be a mapping"),
        ("- 1", "must be a mapping with budgets and rate_limits"),
        ("budgets: {agent: {", "is not valid YAML or JSON"),
        ("", "is empty"),
    ])
    func aBadFileIsRefusedNamingWhere(text: String, naming: String) {
        let message = Self.refusal(text)
        #expect(message.contains(naming), "\(text): \(message)")
        #expect(message.hasPrefix("AGENTLEDGER_POLICY_FILE policy.yaml: ") || message == "accepted")
    }

    @Test func aMissingOrHugeFileIsRefused() throws {
        var policy = EnforcementPolicy()
        #expect(throws: PolicyFileError.self) { try PolicyFile.apply(fileAt: "/nonexistent/policy.yaml", to: &policy) }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("policy-\(UUID().uuidString).yaml")
        try Data(count: PolicyFile.maximumBytes + 1).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        do {
            try PolicyFile.apply(fileAt: url.path, to: &policy)
            Issue.record("a file over the bound was read")
        } catch {
            #expect("\(error)".contains("is larger than"))
        }
    }

    @Test func eachAgentIsJudgedByItsOwnLimit() throws {
        var policy = try Self.policy("budgets: {agent: {\"*\": 0.015, research: 0.05}}")
        policy.admissionMode = .strict
        var state = EnforcementState(policy: policy, prices: .builtIn, now: EnforcementStateTests.morning)
        let now = EnforcementStateTests.morning
        func admitted(_ agent: String, calls: Int) -> Int {
            (0..<calls).count { index in
                let request = EnforcementStateTests.request("\(agent)-\(index)", session: nil, agent: agent)
                if case .admit = state.admit(request, now: now) { return true }
                return false
            }
        }
        // A worst case of $0.01025: one call fits in $0.015, four in $0.05.
        #expect(admitted("writer", calls: 5) == 1)
        #expect(admitted("research", calls: 10) == 4)
        #expect(admitted("critic", calls: 5) == 1)
        guard
            case .refuse(let refusal) = state.admit(EnforcementStateTests.request("r", session: nil, agent: "research"), now: now)
        else {
            Issue.record("research's fifth call was admitted")
            return
        }
        #expect(refusal.message.contains("Agent daily budget of $0.0500"), "\(refusal.message)")
    }

    @Test func softThresholdsAlertOnceAsSpendCrossesThem() throws {
        #expect(try Self.policy("alert_at: [0.95, 0.5, 0.5]").alertFractions == [0.5, 0.95])
        #expect(try Self.policy("alert_at: 0.8").alertFractions == [0.8])
        #expect(Self.refusal("alert_at: [0]").contains("alert_at must be fractions"))
        #expect(Self.refusal("alert_at: 1.5").contains("alert_at must be fractions"))
        #expect(Self.refusal("alert_at: [0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9]").contains("more than 8"))

        var policy = try Self.policy("budgets: {agent: {\"*\": 1, research: 10}, fleet: 100}\nalert_at: [0.5, 0.9]")
        policy.admissionMode = .strict
        var state = EnforcementState(policy: policy, prices: .builtIn, now: EnforcementStateTests.morning)
        let now = EnforcementStateTests.morning
        func settle(_ id: String, agent: String, usd: Double) -> [ThresholdCrossing] {
            state.settle(
                actionID: id, costUSD: usd, keys: SpendLedger.Keys(sessionID: nil, agentName: agent, userID: nil, appID: nil),
                arrivedAt: now, now: now)
        }
        #expect(settle("a", agent: "writer", usd: 0.4).isEmpty)
        let half = settle("b", agent: "writer", usd: 0.2)
        #expect(half.map(\.fraction) == [0.5] && half.first?.scope == .agent && half.first?.key == "writer")
        #expect(half.first?.limit == Nanodollars(usd: 1) && half.first?.spent == Nanodollars(usd: 0.6))
        #expect(settle("c", agent: "writer", usd: 0.05).isEmpty, "no second alert for the same threshold")
        // One call across both thresholds raises both; research's own limit is ten times larger.
        #expect(settle("d", agent: "writer", usd: 5).map(\.fraction) == [0.9])
        #expect(settle("e", agent: "research", usd: 4.9).isEmpty)
        let research = settle("f", agent: "research", usd: 0.2)
        #expect(research.map(\.fraction) == [0.5] && research.first?.limit == Nanodollars(usd: 10))
        let fleet = settle("g", agent: "other", usd: 60)
        #expect(fleet.map { "\($0.scope):\($0.fraction)" } == ["agent:0.5", "agent:0.9", "fleet:0.5"])

        let alert = Alerting.alert(for: half[0], now: now)
        #expect(alert.kind == .budgetThreshold && alert.agentName == "writer")
        #expect(
            alert.message == "Spend of agent writer $0.6000 reached 50% of its Agent daily budget of $1.0000 on 2025-03-04 (UTC)")
        #expect(alert.dedupKey == "budget_threshold:agent:writer:2025-03-04:0.5")
        #expect(alert.threshold == 0.5 && alert.value == 0.6)
    }

    @Test func onlyANamedSessionsLifetimeSpendIsReadFromTheStore() throws {
        let policy = try Self.policy("budgets: {session: {vip-run: 5}}")
        let state = EnforcementState(policy: policy, prices: .builtIn, now: EnforcementStateTests.morning)
        #expect(state.sessionToLoad(for: EnforcementStateTests.request("a", session: "vip-run")) == "vip-run")
        #expect(state.sessionToLoad(for: EnforcementStateTests.request("b", session: "other")) == nil)
        let everySession = EnforcementState(
            policy: try Self.policy("budgets: {session: 1}"), prices: .builtIn, now: EnforcementStateTests.morning)
        #expect(everySession.sessionToLoad(for: EnforcementStateTests.request("c", session: "other")) == "other")
    }

    @Test func onlyNamedKeysAreLimitedWhenTheScopeHasNoDefault() throws {
        var policy = try Self.policy("budgets: {user: {ann: 0}}\nrate_limits: {agent: {bot: 1}}")
        policy.admissionMode = .strict
        var state = EnforcementState(policy: policy, prices: .builtIn, now: EnforcementStateTests.morning)
        let now = EnforcementStateTests.morning
        #expect(state.admit(EnforcementStateTests.request("a", session: nil, user: "ann"), now: now) != .admit(reserved: .zero))
        if case .refuse(let refusal) = state.admit(EnforcementStateTests.request("b", session: nil, user: "ann"), now: now) {
            #expect(refusal.kind == .budget)
        } else {
            Issue.record("ann's zero budget admitted a call")
        }
        if case .refuse = state.admit(EnforcementStateTests.request("c", session: nil, user: "bob"), now: now) {
            Issue.record("bob has no limit and was refused")
        }
        if case .refuse = state.admit(EnforcementStateTests.request("d", session: nil, agent: "bot"), now: now) {
            Issue.record("bot's first call is within its limit of 1")
        }
        guard case .refuse(let limited) = state.admit(EnforcementStateTests.request("e", session: nil, agent: "bot"), now: now)
        else {
            Issue.record("bot's second call in the window was admitted")
            return
        }
        #expect(limited.kind == .rateLimit)
        if case .refuse = state.admit(EnforcementStateTests.request("f", session: nil, agent: "other"), now: now) {
            Issue.record("other agents have no rate limit")
        }
    }
}
