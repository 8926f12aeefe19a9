/// What a budget counts: every call of the fleet, or the calls of one session, agent, user, app, environment or model
/// (the model a call asks for, as its request names it). The order of the cases is the order admission checks budgets in
/// (docs/reference.md, "Refusals").
package enum BudgetScope: Int, Sendable, Hashable, CaseIterable {
    case session, agent, user, app, environment, model, fleet

    /// How long a scope's spend counts unless the policy file says otherwise: a session's for its lifetime, the
    /// others' for the current day.
    package var defaultPeriod: BudgetPeriod { self == .session ? .lifetime : .day }
}

/// How long spend counts against a budget.
package enum BudgetPeriod: String, Sendable, Hashable, CaseIterable {
    /// Everything the key ever spent: read from the store on first use, then kept in memory. Sessions only.
    case lifetime
    /// The current calendar day, week (from Monday) or month in the policy's time zone (`BudgetCalendar`): restarts
    /// from zero when it ends.
    case day, week, month
}

/// A limit on what the calls of a scope may spend in a period, in USD, for every key of the scope (`limitUSD`) and
/// for named keys (`keyLimitsUSD`: one agent, user, app or session, over the default). The period is the policy's for
/// the scope (`EnforcementPolicy.periods`): a session budget is lifetime, every other one a calendar day, week or
/// month (a lifetime figure is read from the store per key, which only sessions have).
package struct Budget: Sendable, Equatable {
    package var scope: BudgetScope
    /// The limit of every key not named in `keyLimitsUSD`; nil: only the named keys are limited.
    package var limitUSD: Double?
    /// Limits of named keys (`AGENTLEDGER_POLICY_FILE`), which take the place of `limitUSD` for those keys.
    package var keyLimitsUSD: [String: Double]

    package init(_ scope: BudgetScope, limitUSD: Double?, keyLimitsUSD: [String: Double] = [:]) {
        self.scope = scope
        self.limitUSD = limitUSD
        self.keyLimitsUSD = keyLimitsUSD
    }

    /// The limit that applies to `key`, nil when none does.
    package func limitUSD(for key: String) -> Double? { keyLimitsUSD[key] ?? limitUSD }
}

/// How admission judges a call against a budget (`AGENTLEDGER_ADMISSION_MODE`, docs/operations.md, "Budgets and rate
/// limits", which gives each mode's worst overshoot).
package enum AdmissionMode: String, Sendable, Equatable, CaseIterable {
    /// Admit while the scope has headroom and the call's input fits in it; reserve the call's expected cost (its input
    /// plus a high percentile of the model's recent outputs, capped by `max_tokens`).
    case expected
    /// Admit only when the call's worst case (input plus `max_tokens`, or the default, of output) fits; reserve that.
    case strict
}

/// What admission does with a call to a model that has no known price (`AGENTLEDGER_UNPRICED_MODELS`).
package enum UnpricedRule: Sendable, Equatable {
    /// Admit it; it counts as free against budgets, and a warning is logged once per model.
    case admit
    /// Refuse it wherever a budget applies to it.
    case refuse
    /// Price it at this stand-in price, for admission and for the spend it settles.
    case price(ModelPrice)
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
    /// Requests per window of every model (`rate_limits.model` in `AGENTLEDGER_POLICY_FILE`; no variable).
    package var modelRPM: Int?
    /// Requests per window of named sessions, agents and users (`AGENTLEDGER_POLICY_FILE`), which take the place of
    /// the scope's limit above for those keys. Never holds `.global`.
    package var keyRPM: [RateWindows.Scope: [String: Int]] = [:]
    /// Tokens (input and output) per window for every key of a scope (`token_limits` in `AGENTLEDGER_POLICY_FILE`).
    package var everyKeyTPM: [RateWindows.Scope: Int] = [:]
    /// Tokens per window of named keys, which take the place of the scope's `everyKeyTPM` for those keys.
    package var keyTPM: [RateWindows.Scope: [String: Int]] = [:]
    /// Fractions of a budget (0 < f ≤ 1, ascending) whose crossing by a key's settled spend raises a
    /// `budget_threshold` alert, without refusing anything: soft limits (`alert_at` in `AGENTLEDGER_POLICY_FILE`).
    package var alertFractions: [Double] = []
    /// Each scope's period, when not its `defaultPeriod` (`periods` in `AGENTLEDGER_POLICY_FILE`). A session's is
    /// always its lifetime.
    package var periods: [BudgetScope: BudgetPeriod] = [:]
    /// Where days, weeks and months begin: `time_zone` in `AGENTLEDGER_POLICY_FILE`, UTC by default.
    package var calendar = BudgetCalendar.utc

    /// The period a scope's budget counts spend over.
    package func period(of scope: BudgetScope) -> BudgetPeriod { periods[scope] ?? scope.defaultPeriod }
    /// The sliding window of the rate limits. Default 60 s; `AGENTLEDGER_RATE_LIMIT_WINDOW_MS` shortens it for tests.
    package var rateWindowMicros: Int64 = 60_000_000
    /// Output tokens reserved for a call that names no `max_tokens`. Default 4,096
    /// (`AGENTLEDGER_ADMISSION_DEFAULT_MAX_TOKENS`).
    package var defaultMaxTokens = 4096
    /// How calls are judged against budgets. Default `.expected`.
    package var admissionMode = AdmissionMode.expected
    /// Output tokens expected of a call to a model with too little history in this collector (fewer than
    /// `EnforcementState.OutputHistory.minimumSamples` recent calls), before its `max_tokens` caps it. Default 1,024.
    package var expectedOutputTokens = 1024
    /// Calls to unpriced models. Default `.admit`.
    package var unpriced = UnpricedRule.admit
    /// A reservation whose record never arrives is released after this long. Default 15 minutes, longer than any
    /// sensible stream.
    package var reservationLifetimeMicros: Int64 = 900_000_000
    /// A session's spend not touched for this long is dropped from memory (it is reloaded from the store on demand).
    /// Default 1 hour.
    package var sessionIdleMicros: Int64 = 3_600_000_000

    package init() {}

    /// The scope's budget for every key in USD; nil is off. Setting it keeps the scope's limits of named keys.
    package subscript(budget scope: BudgetScope) -> Double? {
        get { budgets.first { $0.scope == scope }?.limitUSD }
        set { update(scope) { $0.limitUSD = newValue } }
    }

    /// The scope's limits of named keys in USD (`AGENTLEDGER_POLICY_FILE`). Setting them keeps the scope's default.
    package subscript(keyBudgets scope: BudgetScope) -> [String: Double] {
        get { budgets.first { $0.scope == scope }?.keyLimitsUSD ?? [:] }
        set { update(scope) { $0.keyLimitsUSD = newValue } }
    }

    /// Changes the scope's budget in place, keeping `budgets` in check order, one per scope, none empty.
    private mutating func update(_ scope: BudgetScope, _ change: (inout Budget) -> Void) {
        var budget = budgets.first { $0.scope == scope } ?? Budget(scope, limitUSD: nil)
        change(&budget)
        budgets.removeAll { $0.scope == scope }
        guard budget.limitUSD != nil || !budget.keyLimitsUSD.isEmpty else { return }
        let index = budgets.firstIndex { $0.scope.rawValue > scope.rawValue } ?? budgets.endIndex
        budgets.insert(budget, at: index)
    }

    /// The requests per window that apply to `key` in `scope` (the global scope's key is empty), nil when none does.
    package func rpm(_ scope: RateWindows.Scope, key: String) -> Int? {
        if !keyRPM.isEmpty, let named = keyRPM[scope]?[key] { return named }
        return everyKeyRPM(scope)
    }

    /// The scope's requests per window for every key it does not name.
    package func everyKeyRPM(_ scope: RateWindows.Scope) -> Int? {
        switch scope {
        case .global: globalRPM
        case .session: sessionRPM
        case .agent: agentRPM
        case .user: userRPM
        case .model: modelRPM
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

    /// The tokens per window that apply to `key` in `scope` (the global scope's key is empty), nil when none does.
    package func tpm(_ scope: RateWindows.Scope, key: String) -> Int? {
        if let named = keyTPM[scope]?[key] { return named }
        return everyKeyTPM[scope]
    }

    package var hasTokenLimits: Bool { !everyKeyTPM.isEmpty || keyTPM.values.contains { !$0.isEmpty } }

    package var hasRateLimits: Bool {
        globalRPM != nil || sessionRPM != nil || agentRPM != nil || userRPM != nil || modelRPM != nil
            || keyRPM.values.contains { !$0.isEmpty }
    }

    /// Whether sidecars must ask before each call.
    package var isActive: Bool { hasBudgets || hasRateLimits || hasTokenLimits }

    /// Takes `other`'s budgets, rate limits and alert thresholds, keeping everything else (the window, the admission
    /// mode and its settings).
    package mutating func replaceLimits(with other: EnforcementPolicy) {
        budgets = other.budgets
        globalRPM = other.globalRPM
        sessionRPM = other.sessionRPM
        agentRPM = other.agentRPM
        userRPM = other.userRPM
        modelRPM = other.modelRPM
        keyRPM = other.keyRPM
        everyKeyTPM = other.everyKeyTPM
        keyTPM = other.keyTPM
        alertFractions = other.alertFractions
    }
}
