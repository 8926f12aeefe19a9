/// Budgets and rate limits as one pure state machine: `admit` decides and reserves, `settle` counts what a call
/// really cost, `sweep` expires what never settled. No I/O, no clock of its own: every event carries `now`
/// (microseconds since the Unix epoch).
package struct EnforcementState: Sendable {
    package let policy: EnforcementPolicy
    let prices: PriceTable
    package private(set) var ledger: SpendLedger
    private var rates: RateWindows
    /// The policy's budgets in check order, their limits in nanodollars.
    private let limits: [(scope: BudgetScope, limit: Nanodollars)]
    private let hasSessionBudget: Bool
    /// Prices by the model name as sidecars send it: a name lookup canonicalizes and probes the table, an admission
    /// should not. Bounded: cleared when it holds more names than any fleet uses.
    private var priceCache: [String: ModelPrice?] = [:]

    package init(policy: EnforcementPolicy, prices: PriceTable, now: Int64) {
        self.policy = policy
        self.prices = prices
        limits = policy.budgets.map { ($0.scope, Nanodollars(usd: $0.limitUSD)) }
        hasSessionBudget = limits.contains { $0.scope == .session }
        ledger = SpendLedger(now: now, scopes: limits.map(\.scope))
        rates = RateWindows(windowMicros: policy.rateWindowMicros)
    }

    /// The session whose lifetime spend must be loaded before `request` can be judged, if any.
    package func sessionToLoad(for request: AdmissionRequest) -> String? {
        guard hasSessionBudget, let session = request.keys.sessionID, ledger.needsLoading(.session, session) else {
            return nil
        }
        return session
    }

    package mutating func beginLoading(session: String) { ledger.beginLoading(.session, session) }

    package mutating func finishLoading(session: String, stored: Nanodollars, now: Int64) {
        ledger.finishLoading(.session, session, stored: stored, now: now)
    }

    package mutating func seedToday(
        total: Nanodollars, byAgent: [String: Nanodollars], byUser: [String: Nanodollars],
        byApp: [String: Nanodollars] = [:]
    ) {
        ledger.seedToday(total: total, byAgent: byAgent, byUser: byUser, byApp: byApp)
    }

    /// The worst case a call can cost: its body as input tokens (four bytes a token, an over-estimate for JSON) plus
    /// `max_tokens` (or the policy's default) of output, at the model's prices. Zero for a model with no known price.
    package mutating func worstCase(of request: AdmissionRequest) -> Nanodollars? {
        let price: ModelPrice?
        if let cached = priceCache[request.model] {
            price = cached
        } else {
            if priceCache.count >= 4096 { priceCache = [:] }
            price = prices.price(for: request.model)
            priceCache[request.model] = price
        }
        return price.map {
            Nanodollars(
                usd: $0.cost(inputTokens: (request.bodyBytes + 3) / 4, outputTokens: request.maxTokens ?? policy.defaultMaxTokens)
            )
        }
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
        let estimate = worstCase(of: request) ?? .zero
        if let refusal = budgetRefusal(for: request.keys, estimate: estimate, now: now) {
            return .refuse(refusal)
        }
        for scope in RateWindows.Scope.allCases {
            if let (rpm, id) = rateLimit(scope, request.keys) { rates.record(scope, id, limit: rpm, now: now) }
        }
        if policy.hasBudgets {
            ledger.reserve(
                request.actionID, amount: estimate, keys: request.keys, now: now, lifetime: policy.reservationLifetimeMicros)
        }
        return .admit(reserved: estimate)
    }

    /// A call's record was stored: release its reservation and count its real cost (nil cost counts as zero).
    package mutating func settle(actionID: String, costUSD: Double?, keys: SpendLedger.Keys, arrivedAt: Int64, now: Int64) {
        ledger.advance(to: now)
        ledger.settle(actionID, cost: Nanodollars(usd: max(costUSD ?? 0, 0)), keys: keys, arrivedAt: arrivedAt, now: now)
    }

    /// Expires stale reservations and forgets idle keys; returns how many reservations expired.
    package mutating func sweep(now: Int64) -> Int {
        ledger.advance(to: now)
        rates.evictIdle(now: now)
        return ledger.sweep(now: now, sessionIdle: policy.sessionIdleMicros)
    }

    package var rateKeyCount: Int { rates.keyCount }

    // MARK: Rules

    private var windowText: String {
        policy.rateWindowMicros == 60_000_000 ? "minute" : "\(Double(policy.rateWindowMicros) / 1_000_000) s"
    }

    /// The limit of one scope that applies to a call, with the key it counts (the global scope's key is empty).
    private func rateLimit(_ scope: RateWindows.Scope, _ keys: SpendLedger.Keys) -> (rpm: Int, id: String)? {
        switch scope {
        case .global: policy.globalRPM.map { ($0, "") }
        case .session: policy.sessionRPM.flatMap { rpm in keys.sessionID.map { (rpm, $0) } }
        case .agent: policy.agentRPM.flatMap { rpm in keys.agentName.map { (rpm, $0) } }
        case .user: policy.userRPM.flatMap { rpm in keys.userID.map { (rpm, $0) } }
        }
    }

    /// Built only for a refusal: admissions are the hot path.
    private func rateRefusal(_ scope: RateWindows.Scope, _ id: String, rpm: Int, wait: Int64, now: Int64) -> Refusal {
        let (label, subject) =
            switch scope {
            case .global: ("Global", "")
            case .session: ("Session", " for session \(id)")
            case .agent: ("Agent", " for agent \(id)")
            case .user: ("User", " for user \(id)")
            }
        let seconds = Int((wait + 999_999) / 1_000_000)
        return Refusal(
            kind: .rateLimit,
            message: "\(label) rate limit of \(rpm) requests per \(windowText) exceeded "
                + "(current: \(rates.count(scope, id, now: now)))\(subject). Retry after \(seconds) s.",
            retryAfterSeconds: seconds)
    }

    /// The first budget, in `BudgetScope` order (session, agent, user, app, then the fleet's), that this call's worst
    /// case would push past its limit.
    private func budgetRefusal(for keys: SpendLedger.Keys, estimate: Nanodollars, now: Int64) -> Refusal? {
        for (scope, limit) in limits {
            guard let key = keys[scope] else { continue }
            let committed = ledger.committed(scope, key) ?? .zero
            guard committed + estimate > limit else { continue }
            return budgetRefusal(scope, key, limit: limit, committed: committed, estimate: estimate, now: now)
        }
        return nil
    }

    /// Built only for a refusal (the key's text too): admissions are the hot path.
    private func budgetRefusal(
        _ scope: BudgetScope, _ key: String, limit: Nanodollars, committed: Nanodollars, estimate: Nanodollars, now: Int64
    ) -> Refusal {
        let (label, subject) =
            switch scope {
            case .session: ("Session", " Session: \(key)")
            case .agent: ("Agent daily", " Agent: \(key)")
            case .user: ("User daily", " User: \(key)")
            case .app: ("App daily", " App: \(key)")
            case .fleet: ("Daily", "")
            }
        let retry: Int? =
            switch scope.period {
            case .lifetime: nil
            case .utcDay: Int((ledger.day + SpendLedger.microsPerDay - now + 999_999) / 1_000_000)
            }
        return Refusal(
            kind: .budget,
            message: "\(label) budget of \(limit) exceeded (current spend and reservations: \(committed), "
                + "this call up to \(estimate))\(subject).",
            retryAfterSeconds: retry)
    }
}
