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
    case otelSpansExported, otelSpansFailed, otelSpansDropped, otelSpansRejected, otelExportRequests, otelExportRetries
    case otlpSpansLLM, otlpSpansOther, otlpRefusedAuth, otlpRefusedBadRequest, otlpRefusedTooLarge, otlpRefusedStore
    case replicaRecordsSeen
    case retentionCallsDeleted, retentionSessionsDeleted, retentionMessagesDeleted, retentionQuarantinedDeleted
    case partitionsCreated, partitionsDropped, maintenanceFailures, storeCatchUps

    package var metric: CounterMetric {
        switch self {
        case .recordsReceived: CounterMetric("agentledger_records_received_total", "Calls received from sidecars and over OTLP.")
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
        case .otelSpansExported:
            CounterMetric("agentledger_otel_spans_exported_total", "Spans the OTLP backend accepted.")
        case .otelSpansFailed:
            CounterMetric(
                "agentledger_otel_spans_failed_total", "Spans given up: refused by the backend, or still failing after retries.")
        case .otelSpansDropped:
            CounterMetric(
                "agentledger_otel_spans_dropped_total",
                "Spans never sent: the export queue (AGENTLEDGER_OTEL_QUEUE_SIZE) was full, or still held them at shutdown.")
        case .otelSpansRejected:
            CounterMetric("agentledger_otel_spans_rejected_total", "Spans the OTLP backend rejected in a partial success.")
        case .otelExportRequests: CounterMetric("agentledger_otel_export_requests_total", "OTLP export requests sent.")
        case .otelExportRetries:
            CounterMetric(
                "agentledger_otel_export_retries_total", "OTLP export requests retried (429, 502-504, connection errors).")
        case .retentionCallsDeleted:
            CounterMetric(
                "agentledger_retention_calls_deleted_total", "Calls deleted by AGENTLEDGER_RETENTION_DAYS.")
        case .retentionSessionsDeleted:
            CounterMetric(
                "agentledger_retention_sessions_deleted_total",
                "Session aggregates deleted with their last call by AGENTLEDGER_RETENTION_DAYS.")
        case .retentionMessagesDeleted:
            CounterMetric(
                "agentledger_retention_messages_deleted_total",
                "Stored messages no kept call holds, deleted by AGENTLEDGER_RETENTION_DAYS.")
        case .retentionQuarantinedDeleted:
            CounterMetric(
                "agentledger_retention_quarantined_deleted_total",
                "Quarantined records deleted by AGENTLEDGER_RETENTION_DAYS.")
        case .partitionsCreated:
            CounterMetric("agentledger_store_partitions_created_total", "Day partitions of the Postgres calls table made.")
        case .partitionsDropped:
            CounterMetric(
                "agentledger_store_partitions_dropped_total",
                "Day partitions of the Postgres calls table dropped by AGENTLEDGER_RETENTION_DAYS.")
        case .maintenanceFailures:
            CounterMetric(
                "agentledger_store_maintenance_failures_total",
                "Rounds of store upkeep (partitions, retention) that failed; the next round tries again.")
        case .storeCatchUps:
            CounterMetric(
                "agentledger_store_catch_ups_total",
                "Times the SQLite store fell more than a second behind and moved its work to the catch-up thread, at the "
                    + "proxy's priority.")
        case .replicaRecordsSeen:
            CounterMetric(
                "agentledger_replica_records_seen_total",
                "Calls other collectors on the same Postgres stored, read for this one's budgets and live feed.")
        case .otlpSpansLLM:
            CounterMetric(
                "agentledger_otlp_spans_received_total", "Spans received on /v1/traces.", labels: [("kind", "llm_call")])
        case .otlpSpansOther:
            CounterMetric("agentledger_otlp_spans_received_total", "Spans received on /v1/traces.", labels: [("kind", "other")])
        case .otlpRefusedAuth:
            CounterMetric(
                "agentledger_otlp_requests_refused_total", "Requests to /v1/traces refused.", labels: [("reason", "unauthorized")]
            )
        case .otlpRefusedBadRequest:
            CounterMetric(
                "agentledger_otlp_requests_refused_total", "Requests to /v1/traces refused.", labels: [("reason", "bad_request")])
        case .otlpRefusedTooLarge:
            CounterMetric(
                "agentledger_otlp_requests_refused_total", "Requests to /v1/traces refused.", labels: [("reason", "too_large")])
        case .otlpRefusedStore:
            CounterMetric(
                "agentledger_otlp_requests_refused_total", "Requests to /v1/traces refused.",
                labels: [("reason", "store_unavailable")])
        }
    }
}
