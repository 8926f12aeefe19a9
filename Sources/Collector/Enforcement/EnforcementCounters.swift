import LedgerMetrics

/// Admission counters, exposed at `/metrics`.
package typealias EnforcementCounters = Counters<EnforcementCounter>

/// What admission decided, and what went wrong while deciding.
package enum EnforcementCounter: Int, CounterName {
    case admitted, refusedBudget, refusedRate, reservationsExpired, storeErrors

    package var metric: CounterMetric {
        let refusals = "Calls refused before reaching the upstream, by type."
        return switch self {
        case .admitted: CounterMetric("agentledger_admissions_total", "Calls admitted by budgets and rate limits.")
        case .refusedBudget: CounterMetric("agentledger_refusals_total", refusals, labels: [("type", "budget_exceeded")])
        case .refusedRate: CounterMetric("agentledger_refusals_total", refusals, labels: [("type", "rate_limit_exceeded")])
        case .reservationsExpired:
            CounterMetric(
                "agentledger_reservations_expired_total", "Reservations released because their record never came.")
        case .storeErrors:
            CounterMetric("agentledger_enforcement_store_errors_total", "Session spend reads that failed.")
        }
    }
}
