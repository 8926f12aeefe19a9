/// Budgets and rate limits as one pure state machine: `admit` decides and reserves, `settle` counts what a call
/// really cost, `sweep` expires what never settled. No I/O, no clock of its own: every event carries `now`
/// (microseconds since the Unix epoch).
package struct EnforcementState: Sendable {
    package private(set) var policy: EnforcementPolicy
    let prices: PriceTable
    package private(set) var ledger: SpendLedger
    package private(set) var rates: RateWindows
    private(set) var tokens: TokenWindows
    /// The policy's budgets in check order, their limits in nanodollars.
    private(set) var limits: [ScopeLimits]
    /// The session budget's, when there is one: a session's lifetime spend is read only when it has a limit.
    private var sessionLimits: ScopeLimits?
    /// Prices by the model name as sidecars send it: a name lookup canonicalizes and probes the table, an admission
    /// should not. Bounded: cleared when it holds more names than any fleet uses.
    private(set) var priceCache: [String: ModelPrice?] = [:]
    /// What each model's calls really produced lately: expected mode's output estimate.
    private var outputs = OutputHistory()

    package init(policy: EnforcementPolicy, prices: PriceTable, now: Int64) {
        self.policy = policy
        self.prices = prices
        limits = policy.budgets.map(ScopeLimits.init)
        sessionLimits = limits.first { $0.scope == .session }
        ledger = SpendLedger(
            now: now, scopes: limits.map(\.scope), periods: policy.periods, calendar: policy.calendar)
        rates = RateWindows(windowMicros: policy.rateWindowMicros)
        tokens = TokenWindows(windowMicros: policy.rateWindowMicros)
    }

    /// Accounts, from now on, the scopes `newPolicy` budgets beside those already accounted, without judging by the new
    /// limits yet; returns the periodic scopes that are new, whose spend in their period must be read from the store
    /// (`seed(_:only:)`) before `replaceLimits(with:)` applies them. A lifetime scope (sessions) is read per key when
    /// first judged.
    package mutating func accountScopes(of newPolicy: EnforcementPolicy) -> [BudgetScope] {
        ledger.account(Array(Set(newPolicy.budgets.map(\.scope) + ledger.scopes))).filter {
            ledger.period(of: $0) != .lifetime
        }
    }

    /// The spend of `scopes` in their current periods, from the store, after `accountScopes(of:)`.
    package mutating func seed(_ spent: [BudgetScope: [String: Nanodollars]], only scopes: [BudgetScope]) {
        ledger.seedToday(spent, only: scopes)
    }

    /// Judges the next admissions by `newPolicy`'s limits (a run-time edit, `PolicyEditor`). Spend, reservations and
    /// rate windows carry over; the rate window's length and the admission settings are the running policy's. Scopes
    /// left without a budget are no longer accounted.
    package mutating func replaceLimits(with newPolicy: EnforcementPolicy) {
        var next = policy
        next.replaceLimits(with: newPolicy)
        policy = next
        limits = next.budgets.map(ScopeLimits.init)
        sessionLimits = limits.first { $0.scope == .session }
        ledger.account(limits.map(\.scope))
    }

    /// The session whose lifetime spend must be loaded before `request` can be judged, if any.
    package func sessionToLoad(for request: AdmissionRequest) -> String? {
        // A session with no limit (only named sessions limited, and not this one) is never judged: nothing to read.
        guard let sessionLimits, let session = request.keys.sessionID, sessionLimits.limit(for: session) != nil,
            ledger.needsLoading(.session, session)
        else { return nil }
        return session
    }

    package mutating func beginLoading(session: String) { ledger.beginLoading(.session, session) }

    package mutating func finishLoading(session: String, stored: Nanodollars, now: Int64) {
        ledger.finishLoading(.session, session, stored: stored, now: now)
    }

    /// Each periodic scope's spend in its current period, by key (the fleet's under the empty key).
    package mutating func seed(_ spent: [BudgetScope: [String: Nanodollars]]) {
        ledger.seedToday(spent)
    }

    package mutating func seedToday(
        total: Nanodollars, byAgent: [String: Nanodollars], byUser: [String: Nanodollars],
        byApp: [String: Nanodollars] = [:]
    ) {
        ledger.seedToday(total: total, byAgent: byAgent, byUser: byUser, byApp: byApp)
    }

    /// The model's price as admission uses it: the price table's, or for a model with no known price the stand-in of
    /// `AGENTLEDGER_UNPRICED_MODELS=price:…`, else nil.
    package mutating func price(for model: String) -> ModelPrice? {
        let price: ModelPrice?
        if let cached = priceCache[model] {
            price = cached
        } else {
            if priceCache.count >= 4096 { priceCache = [:] }
            price = prices.price(for: model)
            priceCache[model] = price
        }
        if price == nil, case .price(let standIn) = policy.unpriced { return standIn }
        return price
    }

    /// The call's input as admission prices it: its body as input tokens (four bytes a token, an over-estimate for
    /// JSON), at the model's input rate.
    static func inputTokens(of request: AdmissionRequest) -> Int { (request.bodyBytes + 3) / 4 }

    /// The worst case a call can cost: its body as input tokens plus `max_tokens` (or the policy's default) of output,
    /// at the model's prices. Nil for a model with no known price. What strict mode reserves.
    package mutating func worstCase(of request: AdmissionRequest) -> Nanodollars? {
        price(for: request.model).map {
            Nanodollars(
                usd: $0.cost(
                    inputTokens: Self.inputTokens(of: request), outputTokens: request.maxTokens ?? policy.defaultMaxTokens))
        }
    }

    /// The output tokens admission expects of a call: the 95th percentile of the model's recent outputs (or the
    /// policy's `expectedOutputTokens` while it has too few), never more than the call's `max_tokens`.
    package func expectedOutputTokens(of request: AdmissionRequest) -> Int {
        let typical = outputs.estimate(model: request.model) ?? policy.expectedOutputTokens
        return min(typical, request.maxTokens ?? .max)
    }

    /// What expected mode judges and reserves: the input's cost alone, and the input plus the expected output. Nil for
    /// a model with no known price.
    package mutating func expectedCost(of request: AdmissionRequest) -> (input: Nanodollars, expected: Nanodollars)? {
        guard let price = price(for: request.model) else { return nil }
        let inputTokens = Self.inputTokens(of: request)
        return (
            Nanodollars(usd: price.cost(inputTokens: inputTokens, outputTokens: 0)),
            Nanodollars(usd: price.cost(inputTokens: inputTokens, outputTokens: expectedOutputTokens(of: request)))
        )
    }

    /// Decides on one call. Rate limits are checked first, then budgets; only an admitted call counts against the
    /// windows and holds a reservation, so a refused call costs its key nothing.
    package mutating func admit(_ request: AdmissionRequest, now: Int64) -> AdmissionDecision {
        ledger.advance(to: now)
        for scope in RateWindows.Scope.allCases {
            guard let (rpm, id) = rateLimit(scope, request.keys),
                let wait = rates.wait(scope, id, limit: rpm, now: now)
            else { continue }
            return .refuse(rateRefusal(scope, id, rpm: rpm, wait: wait, now: now))
        }
        let judged: Judged
        switch policy.admissionMode {
        case .strict:
            let worst = worstCase(of: request)
            judged = Judged(needed: worst, reserve: worst)
        case .expected:
            let cost = expectedCost(of: request)
            judged = Judged(needed: cost?.input, reserve: cost?.expected)
        }
        if policy.hasBudgets, let refusal = budgetRefusal(for: request, judged, now: now) { return .refuse(refusal) }
        // Token limits judge the call's expected tokens (its body as input plus the output admission expects) against
        // what the window holds: settled calls' real tokens and the expected tokens of calls in flight.
        var tokenKeys: [TokenWindows.Key] = []
        var expectedTokens = 0
        if policy.hasTokenLimits {
            let sum = Self.inputTokens(of: request).addingReportingOverflow(expectedOutputTokens(of: request))
            expectedTokens = sum.overflow ? .max : sum.partialValue
            for scope in RateWindows.Scope.allCases {
                guard let id = Self.rateKey(scope, request.keys), let limit = policy.tpm(scope, key: id) else { continue }
                let key = TokenWindows.Key(scope: scope, id: id)
                let used = tokens.used(key, now: now)
                if limit == 0 || used >= limit || used > limit - expectedTokens {
                    let needed = limit == 0 ? 0 : max(1, used - max(limit - expectedTokens, 0))
                    return .refuse(
                        tokenRefusal(scope, id, limit: limit, used: used, wait: tokens.wait(key, needed: needed, now: now)))
                }
                tokenKeys.append(key)
            }
        }
        let reserve = judged.reserve ?? .zero
        for scope in RateWindows.Scope.allCases {
            if let (rpm, id) = rateLimit(scope, request.keys) { rates.record(scope, id, limit: rpm, now: now) }
        }
        if policy.hasBudgets {
            ledger.reserve(
                request.actionID, amount: reserve, keys: request.keys, now: now, lifetime: policy.reservationLifetimeMicros)
        }
        if !tokenKeys.isEmpty {
            tokens.hold(
                request.actionID, keys: tokenKeys, tokens: expectedTokens, now: now, lifetime: policy.reservationLifetimeMicros)
        }
        return .admit(reserved: reserve)
    }

    /// A call's record was stored: release its reservation and count its real cost (nil cost counts as zero).
    /// `model` and the token counts teach expected mode what the model's calls produce, and price an unpriced call at
    /// the stand-in price when the policy sets one.
    /// Returns the soft thresholds (`policy.alertFractions`) the call's spend carried a key across.
    @discardableResult
    package mutating func settle(
        actionID: String, costUSD: Double?, keys: SpendLedger.Keys, arrivedAt: Int64, now: Int64, model: String? = nil,
        tokensIn: Int? = nil, tokensOut: Int? = nil
    ) -> [ThresholdCrossing] {
        ledger.advance(to: now)
        if policy.hasTokenLimits {
            let used = (tokensIn ?? 0).addingReportingOverflow(tokensOut ?? 0)
            let limited = RateWindows.Scope.allCases.compactMap { scope -> TokenWindows.Key? in
                guard let id = Self.rateKey(scope, keys), policy.tpm(scope, key: id) != nil else { return nil }
                return TokenWindows.Key(scope: scope, id: id)
            }
            tokens.settle(actionID, tokens: used.overflow ? .max : max(used.partialValue, 0), keys: limited, now: now)
        }
        var cost = costUSD
        if let model, let tokensOut {
            outputs.record(model: model, outputTokens: tokensOut)
            if cost == nil, case .price(let standIn) = policy.unpriced {
                cost = standIn.cost(inputTokens: tokensIn ?? 0, outputTokens: tokensOut)
            }
        }
        let amount = Nanodollars(usd: max(cost ?? 0, 0))
        guard !policy.alertFractions.isEmpty, amount != .zero else {
            ledger.settle(actionID, cost: amount, keys: keys, arrivedAt: arrivedAt, now: now)
            return []
        }
        let before = limits.map { budget in keys[budget.scope].flatMap { ledger.spent(budget.scope, $0) } }
        ledger.settle(actionID, cost: amount, keys: keys, arrivedAt: arrivedAt, now: now)
        var crossings: [ThresholdCrossing] = []
        for (budget, spentBefore) in zip(limits, before) {
            let scope = budget.scope
            guard let key = keys[scope], let spentBefore, let limit = budget.limit(for: key), limit > .zero,
                let spentAfter = ledger.spent(scope, key)
            else { continue }
            for fraction in policy.alertFractions {
                let mark = Double(limit.value) * fraction
                if Double(spentBefore.value) < mark && Double(spentAfter.value) >= mark {
                    crossings.append(
                        ThresholdCrossing(
                            scope: scope, key: key, fraction: fraction, spent: spentAfter, limit: limit,
                            period: ledger.period(of: scope), periodStart: ledger.currentPeriod(of: scope).start))
                }
            }
        }
        return crossings
    }

    /// Models whose recent outputs expected mode remembers.
    package var modelsWithOutputHistory: Int { outputs.modelCount }

    /// Expires stale reservations and forgets idle keys; returns how many reservations expired.
    /// How many reservations the ledger's cap released early since the last call (`SpendLedger.maxReservations`).
    package mutating func takeEvicted() -> Int { ledger.takeEvicted() }

    package mutating func sweep(now: Int64) -> Int {
        ledger.advance(to: now)
        rates.evictIdle(now: now)
        tokens.sweep(now: now)
        return ledger.sweep(now: now, sessionIdle: policy.sessionIdleMicros)
    }

    /// Holds the reservations the previous enforcer made (`SpendLedger.adopt`), each for the rest of its lifetime.
    package mutating func adopt(_ held: [HeldReservation], now: Int64) {
        ledger.adopt(held, now: now, lifetime: policy.reservationLifetimeMicros)
    }

    /// Drops reservations whose calls are stored already, without counting them: their cost reached this ledger when
    /// they were stored.
    package mutating func release(_ actionIDs: some Sequence<String>) {
        for id in actionIDs { ledger.release(id) }
    }

    package var rateKeyCount: Int { rates.keyCount }
}

/// One budget's limits in nanodollars: every key's (nil: none) and named keys' (`AGENTLEDGER_POLICY_FILE`).
struct ScopeLimits: Sendable {
    let scope: BudgetScope
    let everyKey: Nanodollars?
    let named: [String: Nanodollars]

    init(_ budget: Budget) {
        scope = budget.scope
        everyKey = budget.limitUSD.map { Nanodollars(usd: $0) }
        named = budget.keyLimitsUSD.mapValues { Nanodollars(usd: $0) }
    }

    /// The limit that applies to `key`, nil when none does. Without named keys (the variables alone) no key is
    /// looked up: admission is the hot path.
    func limit(for key: String) -> Nanodollars? {
        named.isEmpty ? everyKey : named[key] ?? everyKey
    }
}

/// A key's settled spend reaching a soft threshold of its budget (`EnforcementPolicy.alertFractions`).
package struct ThresholdCrossing: Sendable, Equatable {
    package var scope: BudgetScope
    package var key: String
    package var fraction: Double
    package var spent: Nanodollars
    package var limit: Nanodollars
    /// The budget's period, and the start (microseconds) of the one the spend counts in (`Int64.min` for a lifetime).
    package var period: BudgetPeriod
    package var periodStart: Int64
}

extension BudgetPeriod {
    /// How a refusal or an alert names a budget of this period: "daily", "weekly", "monthly".
    package var adjective: String {
        switch self {
        case .lifetime: "lifetime"
        case .day: "daily"
        case .week: "weekly"
        case .month: "monthly"
        }
    }
}
