import LedgerMetrics

/// Admission counters, exposed at `/metrics`.
package typealias EnforcementCounters = Counters<EnforcementCounter>

/// What admission decided, and what went wrong while deciding.
package enum EnforcementCounter: Int, CounterName {
    case admitted, refusedBudget, refusedRate, reservationsExpired, reservationsEvicted, storeErrors
    case takeovers, stepDowns, leaseErrors, admissionsForwarded, admissionsUnanswered

    package var metric: CounterMetric {
        let refusals = "Calls refused before reaching the upstream, by type."
        return switch self {
        case .admitted: CounterMetric("agentledger_admissions_total", "Calls admitted by budgets and rate limits.")
        case .refusedBudget: CounterMetric("agentledger_refusals_total", refusals, labels: [("type", "budget_exceeded")])
        case .refusedRate: CounterMetric("agentledger_refusals_total", refusals, labels: [("type", "rate_limit_exceeded")])
        case .reservationsExpired:
            CounterMetric(
                "agentledger_reservations_expired_total", "Reservations released because their record never came.")
        case .reservationsEvicted:
            CounterMetric(
                "agentledger_reservations_evicted_total",
                "Reservations released early: a million were held, their records not yet stored.")
        case .storeErrors:
            CounterMetric("agentledger_enforcement_store_errors_total", "Session spend reads that failed.")
        case .takeovers:
            CounterMetric("agentledger_enforcer_takeovers_total", "Times this collector became the enforcer.")
        case .stepDowns:
            CounterMetric(
                "agentledger_enforcer_step_downs_total",
                "Times this collector stopped being the enforcer (lease lost, not renewed in time, or shutdown).")
        case .leaseErrors:
            CounterMetric("agentledger_enforcer_lease_errors_total", "Claims of the enforcer's lease that failed.")
        case .admissionsForwarded:
            CounterMetric(
                "agentledger_admissions_forwarded_total", "ADMITs this collector forwarded to the enforcer (a follower).")
        case .admissionsUnanswered:
            CounterMetric(
                "agentledger_admissions_unanswered_total",
                "ADMITs left unanswered for want of an enforcer: the sidecar follows AGENTLEDGER_ON_COLLECTOR_DOWN.")
        }
    }
}
