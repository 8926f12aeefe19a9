import LedgerMetrics

/// Monotonic counters of the sidecar, for `/agentledger/metrics` (and `up`'s `/metrics`) and logs.
package typealias SidecarCounters = Counters<SidecarCounter>

/// The sidecar's counters.
package enum SidecarCounter: Int, CounterName {
    /// Captured calls handed to the shipper.
    case captured
    /// Calls the collector acknowledged (stored or known duplicates).
    case acknowledged
    /// Calls given up undelivered that no collector can have stored (counted, never silent): never sent on a link when
    /// the spool's bound dropped them, when memory was full too, or when no frame could hold them, and records found
    /// corrupt in the spool.
    case dropped
    /// Calls given up undelivered after being sent on a link without an ACK: the outcome is unknown, the collector may
    /// have stored them. Not part of `dropped`.
    case droppedUnconfirmed
    /// Connection attempts to the collector that failed or links that broke.
    case reconnects
    /// Requests refused with 413.
    case bodyTooLarge
    /// Calls whose upstream could not be reached.
    case upstreamUnreachable
    /// Calls refused with 503 because no collector link was up (`AGENTLEDGER_ON_COLLECTOR_DOWN=closed`).
    case refusedCollectorDown
    /// Spool writes or reads that failed (records then stay in memory only).
    case spoolErrors
    /// Calls the collector refused (budget or rate limit), answered 429.
    case refusedByCollector
    /// Calls for which no admission verdict could be had (no link, link lost, timeout).
    case admissionUnavailable
    /// Records whose bodies were cut to fit one frame (`request_body_truncated` / `response_body_truncated`).
    case recordsCut
    /// Bytes of torn records the spool skipped or cut at start-up.
    case spoolTornBytes
    /// Records that failed their CRC (or had an impossible header) when loaded for sending: skipped, and also counted
    /// in `dropped`.
    case spoolCorruptRecords
    /// Agent connections answered 503 and closed at accept: `AGENTLEDGER_MAX_AGENT_CONNECTIONS` were open.
    case agentConnectionsRefused
    /// Request heads that did not arrive within `AGENTLEDGER_REQUEST_HEAD_TIMEOUT_MS` (408, closed).
    case requestHeadTimeouts
    /// Request bodies that paused longer than `AGENTLEDGER_REQUEST_BODY_TIMEOUT_MS` (408, closed).
    case requestBodyTimeouts
    /// Agent connections closed after `AGENTLEDGER_AGENT_IDLE_TIMEOUT_MS` with no request.
    case agentIdleClosed
    /// Requests answered 503 (and closed) because bodies in memory would pass `AGENTLEDGER_MAX_BUFFERED_MB`.
    case bodyBufferFull

    package var metric: CounterMetric {
        switch self {
        case .captured: CounterMetric("agentledger_sidecar_calls_captured_total", "Captured calls handed to the shipper.")
        case .acknowledged:
            CounterMetric(
                "agentledger_sidecar_calls_acknowledged_total", "Calls the collector acknowledged (stored or known duplicates).")
        case .dropped:
            CounterMetric(
                "agentledger_sidecar_calls_dropped_total", "Calls given up undelivered that no collector can have stored")
        case .droppedUnconfirmed:
            CounterMetric(
                "agentledger_sidecar_calls_dropped_unconfirmed_total",
                "Calls given up undelivered after being sent on a link without an ACK: the outcome is unknown, the collector may have stored them. Not part of dropped."
            )
        case .reconnects:
            CounterMetric(
                "agentledger_sidecar_collector_reconnects_total",
                "Connection attempts to the collector that failed or links that broke.")
        case .bodyTooLarge: CounterMetric("agentledger_sidecar_body_too_large_total", "Requests refused with 413.")
        case .upstreamUnreachable:
            CounterMetric("agentledger_sidecar_upstream_unreachable_total", "Calls whose upstream could not be reached.")
        case .refusedCollectorDown:
            CounterMetric(
                "agentledger_sidecar_refused_collector_down_total",
                "Calls refused with 503 because no collector link was up (AGENTLEDGER_ON_COLLECTOR_DOWN=closed).")
        case .spoolErrors:
            CounterMetric(
                "agentledger_sidecar_spool_errors_total", "Spool writes or reads that failed (records then stay in memory only).")
        case .refusedByCollector:
            CounterMetric(
                "agentledger_sidecar_refused_by_collector_total",
                "Calls the collector refused (budget or rate limit), answered 429.")
        case .admissionUnavailable:
            CounterMetric(
                "agentledger_sidecar_admission_unavailable_total",
                "Calls for which no admission verdict could be had (no link, link lost, timeout).")
        case .recordsCut:
            CounterMetric(
                "agentledger_sidecar_records_cut_total",
                "Records whose bodies were cut to fit one frame (request_body_truncated / response_body_truncated).")
        case .spoolTornBytes:
            CounterMetric(
                "agentledger_sidecar_spool_torn_bytes_total", "Bytes of torn records the spool skipped or cut at start-up.")
        case .spoolCorruptRecords:
            CounterMetric(
                "agentledger_sidecar_spool_corrupt_records_total",
                "Records that failed their CRC (or had an impossible header) when loaded for sending: skipped, and also counted in dropped."
            )
        case .agentConnectionsRefused:
            CounterMetric(
                "agentledger_sidecar_agent_connections_refused_total",
                "Agent connections answered 503 and closed at accept: AGENTLEDGER_MAX_AGENT_CONNECTIONS were open.")
        case .requestHeadTimeouts:
            CounterMetric(
                "agentledger_sidecar_request_head_timeouts_total",
                "Request heads that did not arrive within AGENTLEDGER_REQUEST_HEAD_TIMEOUT_MS (408, closed).")
        case .requestBodyTimeouts:
            CounterMetric(
                "agentledger_sidecar_request_body_timeouts_total",
                "Request bodies that paused longer than AGENTLEDGER_REQUEST_BODY_TIMEOUT_MS (408, closed).")
        case .agentIdleClosed:
            CounterMetric(
                "agentledger_sidecar_agent_idle_closed_total",
                "Agent connections closed after AGENTLEDGER_AGENT_IDLE_TIMEOUT_MS with no request.")
        case .bodyBufferFull:
            CounterMetric(
                "agentledger_sidecar_body_buffer_full_total",
                "Requests answered 503 (and closed) because bodies in memory would pass AGENTLEDGER_MAX_BUFFERED_MB.")
        }
    }
}
