import Synchronization

/// Admission counters, exposed at `/metrics`.
package final class EnforcementCounters: Sendable {
    package enum Name: Int, CaseIterable, Sendable {
        case admitted, refusedBudget, refusedRate, reservationsExpired, storeErrors
    }

    private let values = Mutex([Int](repeating: 0, count: Name.allCases.count))

    package init() {}

    package func add(_ name: Name, _ amount: Int = 1) {
        values.withLock { $0[name.rawValue] += amount }
    }

    package func value(_ name: Name) -> Int {
        values.withLock { $0[name.rawValue] }
    }

    package func prometheusText() -> String {
        let v = values.withLock { $0 }
        return """
            # HELP agentledger_admissions_total Calls admitted by budgets and rate limits.
            # TYPE agentledger_admissions_total counter
            agentledger_admissions_total \(v[Name.admitted.rawValue])
            # HELP agentledger_refusals_total Calls refused before reaching the upstream, by type.
            # TYPE agentledger_refusals_total counter
            agentledger_refusals_total{type="budget_exceeded"} \(v[Name.refusedBudget.rawValue])
            agentledger_refusals_total{type="rate_limit_exceeded"} \(v[Name.refusedRate.rawValue])
            # HELP agentledger_reservations_expired_total Reservations released because their record never came.
            # TYPE agentledger_reservations_expired_total counter
            agentledger_reservations_expired_total \(v[Name.reservationsExpired.rawValue])
            # HELP agentledger_enforcement_store_errors_total Session spend reads that failed.
            # TYPE agentledger_enforcement_store_errors_total counter
            agentledger_enforcement_store_errors_total \(v[Name.storeErrors.rawValue])

            """
    }
}
