/// One limit set at run time through the API (`PUT /api/budgets/{scope}/{key}`, `PUT /api/rate-limits/{scope}/{key}`),
/// kept in the store and applied over the limits of the environment variables and `AGENTLEDGER_POLICY_FILE` at every
/// start (docs/operations.md, "Changing limits at run time").
package struct PolicyOverride: Sendable, Equatable, Hashable {
    package enum Kind: String, Sendable, Hashable, CaseIterable {
        /// USD in the scope's period.
        case budget
        /// Requests per window.
        case rateLimit = "rate_limit"
        /// Tokens per window.
        case tokenLimit = "token_limit"
    }

    package var kind: Kind
    /// The scope's name as the policy file spells it: `session`, `agent`, `user`, `app`, `fleet` for budgets;
    /// `global`, `session`, `agent`, `user` for rate limits.
    package var scope: String
    /// The key it limits (an agent name, a user id, …), or `*` for every key of the scope not named.
    package var key: String
    /// The limit; nil: no limit for every key of the scope (only with key `*`).
    package var limit: Double?

    package init(kind: Kind, scope: String, key: String, limit: Double?) {
        self.kind = kind
        self.scope = scope
        self.key = key
        self.limit = limit
    }

    /// What the override limits, without its value.
    package var target: Target { Target(kind: kind, scope: scope, key: key) }

    package struct Target: Sendable, Hashable {
        package var kind: Kind
        package var scope: String
        package var key: String

        package init(kind: Kind, scope: String, key: String) {
            self.kind = kind
            self.scope = scope
            self.key = key
        }
    }

    static let budgetScopes: [String: BudgetScope] = [
        "session": .session, "agent": .agent, "user": .user, "app": .app, "environment": .environment, "model": .model,
        "fleet": .fleet,
    ]
    static let rateScopes: [String: RateWindows.Scope] = [
        "global": .global, "session": .session, "agent": .agent, "user": .user, "model": .model,
    ]

    /// Checks the override as the API receives it; the error says what is wrong in words a caller can act on.
    package func validated() throws(PolicyOverrideError) -> PolicyOverride {
        guard !key.isEmpty, key.utf8.count <= 256 else { throw PolicyOverrideError("the key must be 1 to 256 bytes") }
        let wholeScope: Bool
        switch kind {
        case .budget:
            guard let scope = Self.budgetScopes[scope] else {
                throw PolicyOverrideError(
                    "\(scope.prefix(40)) is not a budget scope: expected session, agent, user, app, environment, model or fleet")
            }
            wholeScope = scope == .fleet
            if let limit, !(limit.isFinite && limit >= 0 && limit <= PolicyFile.maximumUSD) {
                throw PolicyOverrideError(
                    "limit_usd must be a number from 0 (refuse everything) to \(Int(PolicyFile.maximumUSD))")
            }
        case .rateLimit, .tokenLimit:
            guard let scope = Self.rateScopes[scope] else {
                throw PolicyOverrideError(
                    "\(scope.prefix(40)) is not a rate-limit scope: expected global, session, agent, user or model")
            }
            wholeScope = scope == .global
            let (field, maximum) = kind == .rateLimit ? ("rpm", PolicyFile.maximumRPM) : ("tpm", PolicyFile.maximumTPM)
            if let limit, !(limit >= 0 && limit <= Double(maximum) && limit.rounded() == limit) {
                throw PolicyOverrideError("\(field) must be a whole number from 0 (refuse everything) to \(maximum)")
            }
        }
        if wholeScope && key != "*" {
            throw PolicyOverrideError("the \(scope) scope has one limit for everything: use the key *")
        }
        if limit == nil && key != "*" {
            throw PolicyOverrideError(
                "a named key cannot be set to no limit; set a number, or DELETE the override to return to the configured limit")
        }
        return self
    }
}

/// Why an override was refused.
package struct PolicyOverrideError: Error, CustomStringConvertible, Equatable {
    package let description: String
    init(_ description: String) { self.description = description }
}

extension EnforcementPolicy {
    /// This policy with `overrides` applied in order: each sets the limit of its scope's every key (`*`) or of one
    /// named key, replacing what the environment variables or the policy file said there.
    package func applying(_ overrides: [PolicyOverride]) -> EnforcementPolicy {
        var policy = self
        for override in overrides { policy.apply(override) }
        return policy
    }

    private mutating func apply(_ override: PolicyOverride) {
        switch override.kind {
        case .budget:
            guard let scope = PolicyOverride.budgetScopes[override.scope] else { return }
            if override.key == "*" {
                self[budget: scope] = override.limit
            } else if let limit = override.limit {
                self[keyBudgets: scope][override.key] = limit
            }
        case .rateLimit:
            guard let scope = PolicyOverride.rateScopes[override.scope] else { return }
            let rpm = override.limit.map { Int($0) }
            if override.key == "*" {
                switch scope {
                case .global: globalRPM = rpm
                case .session: sessionRPM = rpm
                case .agent: agentRPM = rpm
                case .user: userRPM = rpm
                case .model: modelRPM = rpm
                }
            } else if let rpm {
                keyRPM[scope, default: [:]][override.key] = rpm
            }
        case .tokenLimit:
            guard let scope = PolicyOverride.rateScopes[override.scope] else { return }
            let tpm = override.limit.map { Int($0) }
            if override.key == "*" {
                everyKeyTPM[scope] = tpm
            } else if let tpm {
                keyTPM[scope, default: [:]][override.key] = tpm
            }
        }
    }

    /// The limit in force at `target` as this policy has it: a named key's own, else its scope's for every key (a
    /// budget in USD, a rate limit in requests per window); nil when none applies there.
    package func limit(at target: PolicyOverride.Target) -> Double? {
        switch target.kind {
        case .budget:
            guard let scope = PolicyOverride.budgetScopes[target.scope] else { return nil }
            return target.key == "*" ? self[budget: scope] : self[keyBudgets: scope][target.key] ?? self[budget: scope]
        case .rateLimit:
            guard let scope = PolicyOverride.rateScopes[target.scope] else { return nil }
            if target.key != "*", let named = keyRPM[scope]?[target.key] { return Double(named) }
            return everyKeyRPM(scope).map(Double.init)
        case .tokenLimit:
            guard let scope = PolicyOverride.rateScopes[target.scope] else { return nil }
            if target.key != "*", let named = keyTPM[scope]?[target.key] { return Double(named) }
            return everyKeyTPM[scope].map(Double.init)
        }
    }
}

/// One change of a limit through the API, as the audit trail keeps it: who, when, what, and the limit before and after.
package struct PolicyChange: Sendable, Equatable {
    /// Microseconds since the epoch.
    package var changedAtMicros: Int64
    /// Who made it: the `x-agentledger-actor` header, else `api`.
    package var actor: String
    /// The request's `User-Agent`: the tool that made it.
    package var client: String
    package var target: PolicyOverride.Target
    /// `set` or `removed` (back to the configured limit).
    package var action: Action
    /// The limit in force at the target before and after the change; nil: none.
    package var before: Double?
    package var after: Double?

    package enum Action: String, Sendable {
        case set, removed
    }

    package init(
        changedAtMicros: Int64, actor: String, client: String, target: PolicyOverride.Target, action: Action,
        before: Double?, after: Double?
    ) {
        self.changedAtMicros = changedAtMicros
        self.actor = actor
        self.client = client
        self.target = target
        self.action = action
        self.before = before
        self.after = after
    }
}
