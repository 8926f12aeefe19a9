import Foundation
import Yams

/// `AGENTLEDGER_POLICY_FILE`: budgets and rate limits per scope and per named key, in YAML or JSON
/// (docs/operations.md, "Budgets and rate limits"). A scope's value is a number, the limit of every key, or a
/// mapping of keys to limits where `"*"` stands for every key not named:
///
/// ```yaml
/// budgets:                    # USD: a session's lifetime; an agent's, user's, app's or the fleet's period
///   session: 2
///   agent: {"*": 5, research: 200}
///   user: {customer-42: 50}   # only customer-42 is limited
///   fleet: 1000
/// token_limits:               # input and output tokens per minute, as the provider counts them
///   model: {gpt-4o: 2000000}
/// rate_limits:                # requests per minute
///   global: 10000
///   agent: {"*": 600, research: 1200}
/// alert_at: [0.8, 0.95]       # a budget_threshold alert when a key's spend reaches 80% and 95% of its budget
/// periods:                    # day (the default), week (from Monday) or month; a session's is its lifetime
///   app: month
/// time_zone: America/New_York # where days, weeks and months begin; UTC by default
/// ```
///
/// Everything is checked at start-up: an unknown section or scope, a key that is not text, a negative or
/// non-numeric limit, or a file too large is an error that names where it is.
package enum PolicyFile {
    /// Files larger than this are refused before parsing.
    package static let maximumBytes = 4 << 20
    /// Named keys across the whole file.
    package static let maximumNamedKeys = 100_000
    /// The largest budget in USD: well inside `Nanodollars`' range, far above any real budget.
    package static let maximumUSD = 1_000_000_000.0
    package static let maximumRPM = 10_000_000
    /// The largest token limit per window: far above any provider's quota.
    package static let maximumTPM = 1_000_000_000_000

    /// What the file sets, applied over `policy` (the environment variables' defaults). A scope the file and a
    /// variable both give a limit for every key is an error: one place says each number.
    package static func apply(fileAt path: String, to policy: inout EnforcementPolicy) throws {
        let data: Data
        do {
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            if let size = attributes[.size] as? NSNumber, size.intValue > maximumBytes {
                throw PolicyFileError(path, "is larger than \(maximumBytes >> 20) MiB")
            }
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch let error as PolicyFileError {
            throw error
        } catch {
            throw PolicyFileError(path, "cannot be read: \(error.localizedDescription)")
        }
        guard let text = String(data: data, encoding: .utf8) else { throw PolicyFileError(path, "is not UTF-8 text") }
        try apply(text, to: &policy, path: path)
    }

    /// `apply(fileAt:to:)` on the file's text; `path` names it in errors.
    package static func apply(_ text: String, to policy: inout EnforcementPolicy, path: String) throws {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw PolicyFileError(path, "is not valid YAML or JSON: \(error)")
        }
        guard let root else { throw PolicyFileError(path, "is empty") }
        guard let sections = root.mapping else { throw PolicyFileError(path, "must be a mapping with budgets and rate_limits") }
        var named = 0
        for (sectionNode, value) in sections {
            let section = sectionNode.string ?? ""
            switch section {
            case "budgets":
                try each(value, in: "budgets", path: path) { scopeName, node in
                    guard let scope = budgetScopes[scopeName] else {
                        throw PolicyFileError(
                            path,
                            "budgets.\(scopeName) is not a scope: expected one of session, agent, user, app, environment, model, fleet"
                        )
                    }
                    let (everyKey, keys) = try limits(
                        node, at: "budgets.\(scopeName)", allowsKeys: scope != .fleet, path: path, named: &named
                    ) { (text: String) -> Double? in
                        guard let usd = Double(text), usd.isFinite, usd >= 0, usd <= maximumUSD else { return nil }
                        return usd
                    }
                    if let everyKey {
                        if policy[budget: scope] != nil {
                            throw PolicyFileError(
                                path,
                                "budgets.\(scopeName) is also set by \(budgetVariables[scope] ?? "a variable"): set it in one place"
                            )
                        }
                        policy[budget: scope] = everyKey
                    }
                    policy[keyBudgets: scope] = keys
                }
            case "rate_limits":
                try eachWindowLimit(value, in: "rate_limits", maximum: maximumRPM, path: path, named: &named) {
                    scope, everyKey, keys in
                    if let everyKey {
                        let variable: WritableKeyPath<EnforcementPolicy, Int?> =
                            switch scope {
                            case .global: \.globalRPM
                            case .session: \.sessionRPM
                            case .agent: \.agentRPM
                            case .user: \.userRPM
                            case .model: \.modelRPM
                            }
                        if policy[keyPath: variable] != nil {
                            throw PolicyFileError(
                                path,
                                "rate_limits.\(scope) is also set by \(rateVariables[scope] ?? "a variable"): set it in one place"
                            )
                        }
                        policy[keyPath: variable] = everyKey
                    }
                    policy.keyRPM[scope] = keys.isEmpty ? nil : keys
                }
            case "token_limits":
                try eachWindowLimit(value, in: "token_limits", maximum: maximumTPM, path: path, named: &named) {
                    scope, everyKey, keys in
                    policy.everyKeyTPM[scope] = everyKey
                    policy.keyTPM[scope] = keys.isEmpty ? nil : keys
                }
            case "alert_at":
                policy.alertFractions = try fractions(value, path: path)
            case "periods":
                try each(value, in: "periods", path: path) { scopeName, node in
                    guard let scope = budgetScopes[scopeName] else {
                        throw PolicyFileError(
                            path,
                            "periods.\(scopeName) is not a scope: expected one of session, agent, user, app, environment, model, fleet"
                        )
                    }
                    let text = node.scalar?.string ?? ""
                    guard let period = BudgetPeriod(rawValue: text), (period == .lifetime) == (scope == .session) else {
                        throw PolicyFileError(
                            path,
                            scope == .session
                                ? "periods.session must be lifetime: a session's budget covers all its calls"
                                : "periods.\(scopeName) must be day, week (from Monday) or month, not \(describe(node))")
                    }
                    if scope != .session { policy.periods[scope] = period }
                }
            case "time_zone":
                guard let name = value.scalar?.string, let zone = TimeZone(identifier: name) else {
                    throw PolicyFileError(
                        path, "time_zone must be an IANA time zone name such as UTC or America/New_York, not \(describe(value))")
                }
                policy.calendar = BudgetCalendar(timeZone: zone, name: name)
            default:
                throw PolicyFileError(
                    path,
                    "\(section.isEmpty ? "a section" : section) is not a section: expected budgets, rate_limits, "
                        + "token_limits, alert_at, periods, time_zone")
            }
        }
    }

    private static let budgetScopes = PolicyOverride.budgetScopes
    private static let rateScopes = PolicyOverride.rateScopes
    private static let budgetVariables: [BudgetScope: String] = [
        .session: "AGENTLEDGER_BUDGET_SESSION", .agent: "AGENTLEDGER_BUDGET_AGENT", .user: "AGENTLEDGER_BUDGET_USER",
        .app: "AGENTLEDGER_BUDGET_APP", .fleet: "AGENTLEDGER_BUDGET_DAILY",
    ]
    private static let rateVariables: [RateWindows.Scope: String] = [
        .global: "AGENTLEDGER_RATE_LIMIT_RPM", .session: "AGENTLEDGER_RATE_LIMIT_SESSION_RPM",
        .agent: "AGENTLEDGER_RATE_LIMIT_AGENT_RPM", .user: "AGENTLEDGER_RATE_LIMIT_USER_RPM",
    ]

    /// A section of limits per window (`rate_limits`, `token_limits`): `body` gets each scope with its limit for every
    /// key and its named keys' limits, whole numbers from 0 to `maximum`.
    private static func eachWindowLimit(
        _ node: Node, in section: String, maximum: Int, path: String, named: inout Int,
        _ body: (RateWindows.Scope, Int?, [String: Int]) throws -> Void
    ) throws {
        var count = named
        try each(node, in: section, path: path) { scopeName, node in
            guard let scope = rateScopes[scopeName] else {
                throw PolicyFileError(
                    path, "\(section).\(scopeName) is not a scope: expected one of global, session, agent, user, model")
            }
            let (everyKey, keys) = try limits(
                node, at: "\(section).\(scopeName)", allowsKeys: scope != .global, path: path, named: &count
            ) { (text: String) -> Int? in
                guard let value = Int(text), value >= 0, value <= maximum else { return nil }
                return value
            }
            try body(scope, everyKey, keys)
        }
        named = count
    }

    /// Calls `body` with each entry of a section's mapping (absent or null: none).
    private static func each(
        _ node: Node, in section: String, path: String, _ body: (String, Node) throws -> Void
    ) throws {
        if let scalar = node.scalar, ["", "~", "null", "Null", "NULL"].contains(scalar.string) { return }  // empty
        guard let mapping = node.mapping else { throw PolicyFileError(path, "\(section) must be a mapping of scopes") }
        var seen = Set<String>()
        for (keyNode, value) in mapping {
            guard let key = keyNode.string, seen.insert(key).inserted else {
                throw PolicyFileError(path, "\(section) names a scope twice or not as text")
            }
            try body(key, value)
        }
    }

    /// A scope's limits: a number (every key), or a mapping of named keys to numbers with `"*"` for every other key.
    private static func limits<Number>(
        _ node: Node, at location: String, allowsKeys: Bool, path: String, named: inout Int,
        parse: (String) -> Number?
    ) throws -> (everyKey: Number?, keys: [String: Number]) {
        func number(_ node: Node, at location: String) throws -> Number {
            guard let scalar = node.scalar, let value = parse(scalar.string) else {
                throw PolicyFileError(path, "\(location) must be a number from 0 (refuse everything) up, not \(describe(node))")
            }
            return value
        }
        if node.scalar != nil { return (try number(node, at: location), [:]) }
        guard allowsKeys, let mapping = node.mapping else {
            throw PolicyFileError(
                path, allowsKeys ? "\(location) must be a number or a mapping of keys to numbers" : "\(location) must be a number"
            )
        }
        var everyKey: Number?
        var keys: [String: Number] = [:]
        for (keyNode, value) in mapping {
            guard let key = keyNode.scalar?.string, !key.isEmpty, key.utf8.count <= 256 else {
                throw PolicyFileError(path, "\(location) has a key that is not text of 1 to 256 bytes")
            }
            if key == "*" {
                guard everyKey == nil else { throw PolicyFileError(path, "\(location) names \"*\" twice") }
                everyKey = try number(value, at: "\(location).*")
                continue
            }
            guard keys[key] == nil else { throw PolicyFileError(path, "\(location) names \(key) twice") }
            keys[key] = try number(value, at: "\(location).\(key)")
            named += 1
            guard named <= maximumNamedKeys else {
                throw PolicyFileError(path, "names more than \(maximumNamedKeys) keys")
            }
        }
        return (everyKey, keys)
    }

    /// `alert_at`: one fraction of a budget or a list of them, each above 0 and at most 1; sorted, duplicates dropped.
    private static func fractions(_ node: Node, path: String) throws -> [Double] {
        let items = node.sequence.map(Array.init) ?? [node]
        guard items.count <= 8 else { throw PolicyFileError(path, "alert_at lists more than 8 thresholds") }
        var fractions: [Double] = []
        for item in items {
            guard let text = item.scalar?.string, let fraction = Double(text), fraction > 0, fraction <= 1 else {
                throw PolicyFileError(
                    path, "alert_at must be fractions of a budget above 0 and at most 1 (0.8 for 80%), not \(describe(item))")
            }
            fractions.append(fraction)
        }
        return Array(Set(fractions)).sorted()
    }

    private static func describe(_ node: Node) -> String {
        if let scalar = node.scalar { return "\"\(scalar.string.prefix(40))\"" }
        return node.mapping != nil ? "a mapping" : "a list"
    }
}

/// Why a policy file was refused: the file and the place in it.
package struct PolicyFileError: Error, CustomStringConvertible {
    package let description: String

    init(_ path: String, _ problem: String) {
        description = "AGENTLEDGER_POLICY_FILE \(path): \(problem)"
    }
}
