import MCP

/// What `GET /api/budgets` and the `budgets` MCP tool answer: each configured budget with the spend and reservations
/// of its keys, the budget whose key is closest to its limit first, and each rate limit with the requests of its keys
/// in the current window. Built as MCP's JSON `Value`, which the HTTP API encodes as it is.
///
/// Two sources: the collector's own `Enforcer` (`/mcp`), which holds settled spend and the reservations of calls in
/// flight; or, for `agentledger mcp`, the store, which holds only settled spend (today's, per agent, user, app and
/// fleet) and knows nothing of reservations or rate windows.
package enum BudgetReport {
    /// At most this many keys are listed per budget or rate limit (highest first); the full count is given.
    static let defaultKeys = 20

    /// The live figures of a running collector. Only the copy of the figures happens under the enforcer's lock;
    /// sorting and writing the answer happen after, so admission waits no longer than a copy.
    static func live(_ enforcer: Enforcer, keys limit: Int, now: Int64) -> Value {
        let policy = enforcer.policy
        let limits = rateLimits(policy)
        let tokenScopes = RateWindows.Scope.allCases.filter {
            policy.everyKeyTPM[$0] != nil || !(policy.keyTPM[$0]?.isEmpty ?? true)
        }
        let (accounts, periods, counts, tokenCounts) = enforcer.inspect { state in
            (
                policy.budgets.map { state.ledger.knownAccounts($0.scope) },
                policy.budgets.map { state.ledger.currentPeriod(of: $0.scope) },
                limits.map { scope, _, _ in state.rates.counts(scope, now: now) },
                tokenScopes.map { state.tokens.counts($0, now: now) }
            )
        }
        let budgets = closestFirst(
            zip(policy.budgets, zip(accounts, periods)).map { budget, figures in
                let (accounts, bounds) = figures
                return entry(
                    budget, period: policy.period(of: budget.scope), bounds: bounds,
                    accounts: accounts.map { (key: $0.key, spent: $0.spent.usd, held: $0.held.usd) }, keys: limit,
                    accountsKnown: true)
            })
        let window = Double(policy.rateWindowMicros) / 1_000_000
        let rates: [Value] = zip(limits, counts).map { rateLimit, counts in
            let (scope, name, everyKey) = rateLimit
            return windowLimit(
                scope: scope, name: name, everyKey: everyKey, named: policy.keyRPM[scope] ?? [:],
                counts: counts.map { ($0.key, $0.requests) },
                limitFor: { policy.rpm(scope, key: $0) }, unit: ("limit_requests", "requests"), window: window, keys: limit)
        }
        let tokenLimits: [Value] = zip(tokenScopes, tokenCounts).map { scope, counts in
            windowLimit(
                scope: scope, name: rateScopeName(scope), everyKey: policy.everyKeyTPM[scope],
                named: policy.keyTPM[scope] ?? [:], counts: counts.map { ($0.key, $0.tokens) },
                limitFor: { policy.tpm(scope, key: $0) }, unit: ("limit_tokens", "tokens"), window: window, keys: limit)
        }
        var answer = report(
            source: "collector", policy: policy, budgets: budgets, rates: .array(rates), now: now,
            note: "spend and reservations as the collector's admission sees them now")
        if case .object(var fields) = answer {
            fields["token_limits"] = .array(tokenLimits)
            answer = .object(fields)
        }
        return answer
    }

    /// Each budget's settled spend in its current period from the store, against the budgets `policy` configures (no
    /// reservations, no windows).
    static func fromStore(_ store: any Store, policy: EnforcementPolicy, keys limit: Int, now: Int64) async throws -> Value {
        var entries: [(value: Value, used: Double)] = []
        var spendSince: [Int64: SpendTotals] = [:]  // one read per distinct period start
        for budget in policy.budgets {
            let period = policy.period(of: budget.scope)
            let bounds = policy.calendar.bounds(of: period, containing: now)
            let totals: SpendTotals
            if period == .lifetime {
                totals = SpendTotals()
            } else if let known = spendSince[bounds.start] {
                totals = known
            } else {
                totals = try await store.spend(sinceMicros: bounds.start)
                spendSince[bounds.start] = totals
            }
            let spent: [String: Double]
            switch budget.scope {
            case .fleet: spent = ["": totals.total]
            case .agent: spent = totals.byAgent
            case .user: spent = totals.byUser
            case .app: spent = totals.byApp
            case .environment: spent = totals.byEnvironment
            case .model: spent = totals.byModel
            case .session: spent = [:]
            }
            let accounts = spent.map { (key: $0.key, spent: $0.value, held: 0.0) }
            entries.append(
                entry(
                    budget, period: period, bounds: bounds, accounts: accounts, keys: limit,
                    accountsKnown: budget.scope != .session))
        }
        let budgets = closestFirst(entries)
        return report(
            source: "store", policy: policy, budgets: budgets, rates: .null, now: now,
            note:
                "settled spend from the store only: reservations of calls in flight and rate windows live in the "
                + "collector (ask its /mcp); a session's lifetime spend is in get_session")
    }

    private static func report(
        source: String, policy: EnforcementPolicy, budgets: [Value], rates: Value, now: Int64, note: String
    ) -> Value {
        .object([
            "source": .string(source), "note": .string(note),
            "day_start": .string(ISOTimestamp.format(micros: SpendLedger.dayStart(of: now))),
            "admission_mode": .string(policy.admissionMode.rawValue),
            "time_zone": .string(policy.calendar.name),
            "budgets": .array(budgets), "rate_limits": rates,
        ])
    }

    /// Budgets by how close their closest key is to the limit (spend plus reservations over the limit), highest
    /// first; ties keep the configured order (session, agent, user, app, fleet).
    private static func closestFirst(_ entries: [(value: Value, used: Double)]) -> [Value] {
        entries.enumerated()
            .sorted { a, b in a.element.used != b.element.used ? a.element.used > b.element.used : a.offset < b.offset }
            .map(\.element.value)
    }

    /// A budget's entry, and the used fraction of its closest key (0 when it lists none).
    private static func entry(
        _ budget: Budget, period: BudgetPeriod, bounds: (start: Int64, end: Int64),
        accounts: [(key: String, spent: Double, held: Double)], keys limit: Int, accountsKnown: Bool
    ) -> (value: Value, used: Double) {
        // Every key with a limit: those admission has seen, and the named ones it has not seen yet, at zero.
        var seen = Set<String>()
        var rows: [(key: String, spent: Double, held: Double, limit: Double)] = accounts.compactMap { account in
            seen.insert(account.key)
            return budget.limitUSD(for: account.key).map { (account.key, account.spent, account.held, $0) }
        }
        for (key, limit) in budget.keyLimitsUSD where !seen.contains(key) { rows.append((key, 0, 0, limit)) }
        if budget.scope == .fleet && rows.isEmpty, let limit = budget.limitUSD { rows = [("", 0, 0, limit)] }
        func used(_ row: (key: String, spent: Double, held: Double, limit: Double)) -> Double {
            row.limit > 0 ? (row.spent + row.held) / row.limit : 1  // a zero limit is always reached
        }
        rows.sort { a, b in used(a) != used(b) ? used(a) > used(b) : a.key < b.key }
        let listed: [Value] = rows.prefix(limit).map { row in
            let committed = row.spent + row.held
            return .object([
                "key": budget.scope == .fleet ? .null : .string(row.key), "limit_usd": .double(row.limit),
                "spent_usd": .double(row.spent), "reserved_usd": .double(row.held),
                "remaining_usd": .double(max(row.limit - committed, 0)),
                "used_fraction": row.limit > 0 ? .double(committed / row.limit) : .null,
            ])
        }
        let value: Value = .object([
            "scope": .string(name(budget.scope)),
            "period": .string(period.rawValue),
            "period_start": bounds.start == .min ? .null : .string(ISOTimestamp.format(micros: bounds.start)),
            "period_end": bounds.end == .max ? .null : .string(ISOTimestamp.format(micros: bounds.end)),
            "limit_usd": budget.limitUSD.map { .double($0) } ?? .null,
            "named_keys": .int(budget.keyLimitsUSD.count),
            "keys": accountsKnown ? .array(listed) : .null,
            "keys_total": accountsKnown ? .int(rows.count) : .null,
        ])
        return (value, accountsKnown ? rows.first.map(used) ?? 0 : 0)
    }

    /// One rate or token limit of a scope: every key with a limit (those counted in the window, and the named ones not
    /// counted, at zero), closest to its limit first. `unit` names the limit's field and the count's.
    private static func windowLimit(
        scope: RateWindows.Scope, name: String, everyKey: Int?, named: [String: Int], counts: [(key: String, count: Int)],
        limitFor: (String) -> Int?, unit: (limit: String, count: String), window: Double, keys limit: Int
    ) -> Value {
        var seen = Set<String>()
        var rows: [(key: String, count: Int, limit: Int)] = counts.compactMap { key, count in
            seen.insert(key)
            return limitFor(key).map { (key, count, $0) }
        }
        for (key, value) in named where !seen.contains(key) { rows.append((key, 0, value)) }
        if scope == .global && rows.isEmpty, let everyKey { rows = [("", 0, everyKey)] }
        func used(_ row: (key: String, count: Int, limit: Int)) -> Double {
            row.limit > 0 ? Double(row.count) / Double(row.limit) : 1
        }
        rows.sort { a, b in used(a) != used(b) ? used(a) > used(b) : a.key < b.key }
        let listed: [Value] = rows.prefix(limit).map { row in
            .object([
                "key": scope == .global ? .null : .string(row.key), unit.limit: .int(row.limit), unit.count: .int(row.count),
                "remaining": .int(max(row.limit - row.count, 0)),
            ])
        }
        return .object([
            "scope": .string(name), unit.limit: everyKey.map { .int($0) } ?? .null, "named_keys": .int(named.count),
            "window_seconds": .double(window), "keys": .array(listed), "keys_total": .int(rows.count),
        ])
    }

    private static func rateScopeName(_ scope: RateWindows.Scope) -> String {
        switch scope {
        case .global: "global"
        case .session: "session"
        case .agent: "agent"
        case .user: "user"
        case .model: "model"
        }
    }

    private static func name(_ scope: BudgetScope) -> String {
        switch scope {
        case .session: "session"
        case .agent: "agent"
        case .user: "user"
        case .app: "app"
        case .environment: "environment"
        case .model: "model"
        case .fleet: "fleet"
        }
    }

    /// The rate limits in force: each scope with a limit for every key or for named keys, as (scope, name, the
    /// limit of every key).
    private static func rateLimits(_ policy: EnforcementPolicy) -> [(RateWindows.Scope, String, Int?)] {
        RateWindows.Scope.allCases.map { ($0, rateScopeName($0), policy.everyKeyRPM($0)) }.filter { scope, _, rpm in
            rpm != nil || !(policy.keyRPM[scope]?.isEmpty ?? true)
        }
    }
}
