/// The budgets and rate limits the collector enforces (docs/reference.md, "Configuration" and "Refusals"). Unset
/// means off; `0` means zero (refuse everything), never "off".
package struct EnforcementPolicy: Sendable, Equatable {
    /// `AGENTLEDGER_BUDGET_SESSION`: USD per session id, lifetime.
    package var sessionBudget: Double?
    /// `AGENTLEDGER_BUDGET_AGENT`: USD per agent name per UTC day.
    package var agentBudget: Double?
    /// `AGENTLEDGER_BUDGET_USER`: USD per user id per UTC day.
    package var userBudget: Double?
    /// `AGENTLEDGER_BUDGET_DAILY`: USD for everything per UTC day.
    package var dailyBudget: Double?
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

    package var hasBudgets: Bool {
        sessionBudget != nil || agentBudget != nil || userBudget != nil || dailyBudget != nil
    }

    package var hasRateLimits: Bool {
        globalRPM != nil || sessionRPM != nil || agentRPM != nil || userRPM != nil
    }

    /// Whether sidecars must ask before each call.
    package var isActive: Bool { hasBudgets || hasRateLimits }
}
