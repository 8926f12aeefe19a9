import LedgerMetrics

/// The alert webhook's delivery counters, exposed at `/metrics` while alerts are on.
package typealias AlertCounters = Counters<AlertCounter>

/// What became of alerts.
package enum AlertCounter: Int, CounterName {
    case sent, failed, dropped, attempts, duplicates

    package var metric: CounterMetric {
        switch self {
        case .sent: CounterMetric("agentledger_alerts_sent_total", "Alerts the webhook accepted (2xx).")
        case .failed:
            CounterMetric("agentledger_alerts_failed_total", "Alerts given up after every attempt or a non-retryable answer.")
        case .dropped:
            CounterMetric(
                "agentledger_alerts_dropped_total", "Alerts dropped undelivered: queue full, or still queued at shutdown.")
        case .attempts: CounterMetric("agentledger_alerts_delivery_attempts_total", "Webhook POST attempts.")
        case .duplicates: CounterMetric("agentledger_alerts_deduplicated_total", "Alerts skipped as already enqueued once.")
        }
    }
}
