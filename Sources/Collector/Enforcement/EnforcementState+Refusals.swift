/// The rules behind a refusal: which limit applies to a call, and the refusal that names it. Built only when a call is
/// refused (their text especially): admission is the hot path.
extension EnforcementState {
    private var windowText: String {
        policy.rateWindowMicros == 60_000_000 ? "minute" : "\(Double(policy.rateWindowMicros) / 1_000_000) s"
    }

    /// The limit of one scope that applies to a call, with the key it counts (the global scope's key is empty).
    func rateLimit(_ scope: RateWindows.Scope, _ keys: SpendLedger.Keys) -> (rpm: Int, id: String)? {
        guard let key = Self.rateKey(scope, keys), let rpm = policy.rpm(scope, key: key) else { return nil }
        return (rpm, key)
    }

    /// The key a call counts under in a rate or token scope (the global scope's is empty), nil when it has none.
    static func rateKey(_ scope: RateWindows.Scope, _ keys: SpendLedger.Keys) -> String? {
        switch scope {
        case .global: ""
        case .session: keys.sessionID
        case .agent: keys.agentName
        case .user: keys.userID
        case .model: keys.model
        }
    }

    /// Built only for a refusal. A token limit refuses as a rate limit does (`rate_limit_exceeded`, with the wait).
    func tokenRefusal(_ scope: RateWindows.Scope, _ id: String, limit: Int, used: Int, wait: Int64) -> Refusal {
        windowRefusal(scope, id, limit: "token limit of \(limit) tokens", current: "\(used), in flight included", wait: wait)
    }

    static func rateLabel(_ scope: RateWindows.Scope, _ id: String) -> (String, String) {
        switch scope {
        case .global: ("Global", "")
        case .session: ("Session", " for session \(id)")
        case .agent: ("Agent", " for agent \(id)")
        case .user: ("User", " for user \(id)")
        case .model: ("Model", " for model \(id)")
        }
    }

    /// Built only for a refusal: admissions are the hot path.
    func rateRefusal(_ scope: RateWindows.Scope, _ id: String, rpm: Int, wait: Int64, now: Int64) -> Refusal {
        windowRefusal(
            scope, id, limit: "rate limit of \(rpm) requests", current: "\(rates.count(scope, id, now: now))", wait: wait)
    }

    /// A refusal by a sliding window (requests or tokens): what was passed, and the wait until there is room.
    private func windowRefusal(
        _ scope: RateWindows.Scope, _ id: String, limit: String, current: String, wait: Int64
    ) -> Refusal {
        let (label, subject) = Self.rateLabel(scope, id)
        let seconds = Int((wait + 999_999) / 1_000_000)
        return Refusal(
            kind: .rateLimit,
            message: "\(label) \(limit) per \(windowText) exceeded (current: \(current))\(subject). Retry after \(seconds) s.",
            retryAfterSeconds: seconds)
    }

    /// What a budget judges a call by: the amount that must fit in its headroom, and the amount it holds once
    /// admitted. Both nil for a model with no known price.
    struct Judged {
        var needed: Nanodollars?
        var reserve: Nanodollars?
    }

    /// The first budget, in `BudgetScope` order (session, agent, user, app, then the fleet's), that refuses this
    /// call. Strict mode: the worst case would take the key past its limit. Expected mode: the key has no headroom
    /// left (spend and reservations at or above the limit), or the call's input alone does not fit in it. A call to
    /// an unpriced model is refused only under `AGENTLEDGER_UNPRICED_MODELS=refuse`.
    func budgetRefusal(for request: AdmissionRequest, _ judged: Judged, now: Int64) -> Refusal? {
        for budget in limits {
            let scope = budget.scope
            guard let key = request.keys[scope], let limit = budget.limit(for: key) else { continue }
            let committed = ledger.committed(scope, key) ?? .zero
            guard let needed = judged.needed else {
                guard policy.unpriced == .refuse else { continue }
                return budgetRefusal(scope, key, limit: limit, committed: committed, unpricedModel: request.model, now: now)
            }
            let refused =
                switch policy.admissionMode {
                case .strict: committed + needed > limit
                case .expected: committed >= limit || committed + needed > limit
                }
            guard refused else { continue }
            return budgetRefusal(
                scope, key, limit: limit, committed: committed, needed: needed, request: request, now: now)
        }
        return nil
    }

    /// Built only for a refusal (the key's text too): admissions are the hot path. Names the limit, the spend and
    /// reservations, and what the call needed; in strict mode, the `max_tokens` that would fit.
    private func budgetRefusal(
        _ scope: BudgetScope, _ key: String, limit: Nanodollars, committed: Nanodollars, needed: Nanodollars? = nil,
        request: AdmissionRequest? = nil, unpricedModel: String? = nil, now: Int64
    ) -> Refusal {
        let period = ledger.period(of: scope)
        let (label, subject) =
            switch scope {
            case .session: ("Session", " Session: \(key)")
            case .agent: ("Agent \(period.adjective)", " Agent: \(key)")
            case .user: ("User \(period.adjective)", " User: \(key)")
            case .app: ("App \(period.adjective)", " App: \(key)")
            case .environment: ("Environment \(period.adjective)", " Environment: \(key)")
            case .model: ("Model \(period.adjective)", " Model: \(key)")
            case .fleet: (period.adjective.prefix(1).uppercased() + period.adjective.dropFirst(), "")
            }
        // Until the period ends, in whole seconds; none for a lifetime (nor for a period without a known end).
        let end = ledger.currentPeriod(of: scope).end
        let retry: Int? =
            period == .lifetime || end == .max
            ? nil : Int(clamping: (end.subtractingReportingOverflow(now).partialValue + 999_999) / 1_000_000)
        var message = "\(label) budget of \(limit) exceeded (current spend and reservations: \(committed)"
        if let unpricedModel {
            message += "; model \(unpricedModel) has no known price and AGENTLEDGER_UNPRICED_MODELS=refuse)\(subject)."
        } else if let needed, let request {
            switch policy.admissionMode {
            case .strict:
                message += ", this call up to \(needed))\(subject)."
                if let fit = fittingMaxTokens(request, headroom: limit - committed) {
                    message += " A max_tokens of \(fit) or less would fit."
                }
            case .expected:
                message += committed >= limit ? ")\(subject)." : ", this call's input \(needed))\(subject)."
            }
        } else {
            message += ")\(subject)."
        }
        return Refusal(kind: .budget, message: message, retryAfterSeconds: retry)
    }

    /// The largest `max_tokens` whose worst case fits in `headroom` (strict mode's advice), nil when not even the
    /// input fits or the model has no output price.
    private func fittingMaxTokens(_ request: AdmissionRequest, headroom: Nanodollars) -> Int? {
        guard let price = priceCache[request.model] ?? nil, price.output > 0 else { return nil }
        let input = Nanodollars(usd: price.cost(inputTokens: Self.inputTokens(of: request), outputTokens: 0))
        let left = headroom - input
        guard left > .zero else { return nil }
        let tokens = Int((Double(left.value) / 1e9 / price.output * 1e6).rounded(.down))
        return tokens > 0 ? tokens : nil
    }
}
