import LedgerMetrics

/// Monotonic counters of the collector, exposed at `/metrics`.
package typealias CollectorCounters = Counters<CollectorCounter>

/// The collector's counters.
package enum CollectorCounter: Int, CounterName {
    case recordsReceived, recordsStored, recordsDuplicate, batchesCommitted, batchesFailed
    case sidecarsConnected, sidecarsRefused, badFrames, unpricedCalls
    case recordsQuarantined, usageRejected
    case ingestLinksOverCap, ingestUnauthenticatedOverCap, ingestBufferExhausted, ingestHelloTimeouts
    case ingestIdleClosed, ingestTLSFailures

    package var metric: CounterMetric {
        switch self {
        case .recordsReceived: CounterMetric("agentledger_records_received_total", "Captured calls received from sidecars.")
        case .recordsStored: CounterMetric("agentledger_records_stored_total", "Calls newly committed to the store.")
        case .recordsDuplicate:
            CounterMetric(
                "agentledger_records_duplicate_total", "Replayed calls already in the store (ignored).")
        case .batchesCommitted:
            CounterMetric("agentledger_batches_committed_total", "RECORDS batches committed and acknowledged.")
        case .batchesFailed: CounterMetric("agentledger_batches_failed_total", "RECORDS batches the store could not commit.")
        case .sidecarsConnected: CounterMetric("agentledger_sidecar_links_total", "Sidecar links accepted after HELLO.")
        case .sidecarsRefused:
            CounterMetric("agentledger_sidecar_links_refused_total", "Links refused (token, version, protocol).")
        case .badFrames: CounterMetric("agentledger_ingest_bad_frames_total", "Links closed for malformed or oversized frames.")
        case .unpricedCalls: CounterMetric("agentledger_calls_unpriced_total", "Calls whose model has no known price.")
        case .recordsQuarantined:
            CounterMetric(
                "agentledger_records_quarantined_total", "Records that could not be stored as calls, kept in quarantine.")
        case .usageRejected:
            CounterMetric(
                "agentledger_usage_rejected_total", "Token counts from providers outside 0 to a billion, not counted.")
        case .ingestLinksOverCap:
            CounterMetric(
                "agentledger_ingest_links_over_cap_total", "Ingest links refused: AGENTLEDGER_INGEST_MAX_LINKS were open.")
        case .ingestUnauthenticatedOverCap:
            CounterMetric(
                "agentledger_ingest_unauthenticated_over_cap_total",
                "Ingest links refused: AGENTLEDGER_INGEST_MAX_UNAUTHENTICATED links were still before HELLO."
            )
        case .ingestBufferExhausted:
            CounterMetric(
                "agentledger_ingest_buffer_exhausted_total",
                "Ingest links closed: unfinished frames of all links reached AGENTLEDGER_INGEST_MAX_BUFFERED_MB."
            )
        case .ingestHelloTimeouts:
            CounterMetric(
                "agentledger_ingest_hello_timeouts_total", "Ingest links closed for not completing HELLO in time.")
        case .ingestIdleClosed:
            CounterMetric(
                "agentledger_ingest_idle_closed_total", "Ingest links closed for no whole frame within the idle timeout.")
        case .ingestTLSFailures:
            CounterMetric(
                "agentledger_ingest_tls_failures_total",
                "Ingest links closed by TLS: a failed handshake (no or untrusted client certificate) or a TLS error."
            )
        }
    }
}
