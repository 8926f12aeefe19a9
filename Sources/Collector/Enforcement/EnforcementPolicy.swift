/// What a budget counts: every call of the fleet, or the calls of one session, agent, user or app. The order of the
/// cases is the order admission checks budgets in (docs/reference.md, "Refusals").
package enum BudgetScope: Int, Sendable, Hashable, CaseIterable {
    case session, agent, user, app, fleet

    /// How long a scope's spend counts: a session's for its lifetime, the others' for the current UTC day.
    package var period: BudgetPeriod { self == .session ? .lifetime : .utcDay }
}

/// How long spend counts against a budget.
package enum BudgetPeriod: Sendable, Hashable {
    /// Everything the key ever spent: read from the store on first use, then kept in memory.
    case lifetime
    /// The current UTC day: restarts from zero at midnight.
    case utcDay
}

/// A limit on what the calls of a scope may spend in a period, in USD. The period follows from the scope: a session
/// budget is lifetime, every other one per UTC day (a lifetime figure is read from the store per key, which only
/// sessions have).
package struct Budget: Sendable, Equatable {
    package var scope: BudgetScope
    package var limitUSD: Double

    package init(_ scope: BudgetScope, limitUSD: Double) {
        self.scope = scope
        self.limitUSD = limitUSD
    }

    package var period: BudgetPeriod { scope.period }
}

/// The budgets and rate limits the collector enforces (docs/reference.md, "Configuration" and "Refusals"). Unset
/// means off; `0` means zero (refuse everything), never "off".
package struct EnforcementPolicy: Sendable, Equatable {
    /// At most one budget per scope, in the order of `BudgetScope`, which is the order admission checks them in.
    /// Set through `self[budget:]` (or the per-scope properties), which keeps that shape.
    package private(set) var budgets: [Budget] = []
    /// `AGENTLEDGER_RATE_LIMIT_RPM`: requests per window, whole fleet.
    package var globalRPM: Int?
    /// `AGENTLEDGER_RATE_LIMIT_SESSION_RPM`.
    package var sessionRPM: Int?
    /// `AGENTLEDGER_RATE_LIMIT_AGENT_RPM`.
    package var agentRPM: Int?
    /// `AGENTLEDGER_RATE_LIMIT_USER_RPM`.
    package var userRPM: Int?
    /// The sliding window of the rate limits. Default 60 s; `AGENTLEDGER_RATE_LIMIT_WINDOW_MS` shortens it for tests.
    package var rateWindowMicros: Int64 = 60_000_000
    /// Output tokens reserved for a call that names no `max_tokens`. Default 4,096
    /// (`AGENTLEDGER_ADMISSION_DEFAULT_MAX_TOKENS`).
    package var defaultMaxTokens = 4096
    /// A reservation whose record never arrives is released after this long. Default 15 minutes, longer than any
    /// sensible stream.
    package var reservationLifetimeMicros: Int64 = 900_000_000
    /// A session's spend not touched for this long is dropped from memory (it is reloaded from the store on demand).
    /// Default 1 hour.
    package var sessionIdleMicros: Int64 = 3_600_000_000

    package init() {}

    /// The scope's budget in USD; nil is off. Setting replaces the scope's budget.
    package subscript(budget scope: BudgetScope) -> Double? {
        get { budgets.first { $0.scope == scope }?.limitUSD }
        set {
            budgets.removeAll { $0.scope == scope }
            guard let newValue else { return }
            let index = budgets.firstIndex { $0.scope.rawValue > scope.rawValue } ?? budgets.endIndex
            budgets.insert(Budget(scope, limitUSD: newValue), at: index)
        }
    }

    /// `AGENTLEDGER_BUDGET_SESSION`: USD per session id, lifetime.
    package var sessionBudget: Double? {
        get { self[budget: .session] }
        set { self[budget: .session] = newValue }
    }
    /// `AGENTLEDGER_BUDGET_AGENT`: USD per agent name per UTC day.
    package var agentBudget: Double? {
        get { self[budget: .agent] }
        set { self[budget: .agent] = newValue }
    }
    /// `AGENTLEDGER_BUDGET_USER`: USD per user id per UTC day.
    package var userBudget: Double? {
        get { self[budget: .user] }
        set { self[budget: .user] = newValue }
    }
    /// USD per app id per UTC day (no variable sets it yet).
    package var appBudget: Double? {
        get { self[budget: .app] }
        set { self[budget: .app] = newValue }
    }
    /// `AGENTLEDGER_BUDGET_DAILY`: USD for everything per UTC day.
    package var dailyBudget: Double? {
        get { self[budget: .fleet] }
        set { self[budget: .fleet] = newValue }
    }

    package var hasBudgets: Bool { !budgets.isEmpty }

    package var hasRateLimits: Bool {
        globalRPM != nil || sessionRPM != nil || agentRPM != nil || userRPM != nil
    }

    /// Whether sidecars must ask before each call.
    package var isActive: Bool { hasBudgets || hasRateLimits }
}
