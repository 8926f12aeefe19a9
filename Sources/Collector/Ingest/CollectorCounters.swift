import Synchronization

/// Monotonic counters of the collector, exposed at `/metrics`.
package final class CollectorCounters: Sendable {
    package enum Name: Int, CaseIterable, Sendable {
        case recordsReceived, recordsStored, recordsDuplicate, batchesCommitted, batchesFailed
        case sidecarsConnected, sidecarsRefused, badFrames, unpricedCalls
        case recordsQuarantined, usageRejected
        case ingestLinksOverCap, ingestUnauthenticatedOverCap, ingestBufferExhausted, ingestHelloTimeouts
        case ingestIdleClosed, ingestTLSFailures

        package var metric: (name: String, help: String) {
            switch self {
            case .recordsReceived: ("agentledger_records_received_total", "Captured calls received from sidecars.")
            case .recordsStored: ("agentledger_records_stored_total", "Calls newly committed to the store.")
            case .recordsDuplicate:
                ("agentledger_records_duplicate_total", "Replayed calls already in the store (ignored).")
            case .batchesCommitted: ("agentledger_batches_committed_total", "RECORDS batches committed and acknowledged.")
            case .batchesFailed: ("agentledger_batches_failed_total", "RECORDS batches the store could not commit.")
            case .sidecarsConnected: ("agentledger_sidecar_links_total", "Sidecar links accepted after HELLO.")
            case .sidecarsRefused: ("agentledger_sidecar_links_refused_total", "Links refused (token, version, protocol).")
            case .badFrames: ("agentledger_ingest_bad_frames_total", "Links closed for malformed or oversized frames.")
            case .unpricedCalls: ("agentledger_calls_unpriced_total", "Calls whose model has no known price.")
            case .recordsQuarantined:
                ("agentledger_records_quarantined_total", "Records that could not be stored as calls, kept in quarantine.")
            case .usageRejected:
                ("agentledger_usage_rejected_total", "Token counts from providers outside 0 to a billion, not counted.")
            case .ingestLinksOverCap:
                ("agentledger_ingest_links_over_cap_total", "Ingest links refused: AGENTLEDGER_INGEST_MAX_LINKS were open.")
            case .ingestUnauthenticatedOverCap:
                (
                    "agentledger_ingest_unauthenticated_over_cap_total",
                    "Ingest links refused: AGENTLEDGER_INGEST_MAX_UNAUTHENTICATED links were still before HELLO."
                )
            case .ingestBufferExhausted:
                (
                    "agentledger_ingest_buffer_exhausted_total",
                    "Ingest links closed: unfinished frames of all links reached AGENTLEDGER_INGEST_MAX_BUFFERED_MB."
                )
            case .ingestHelloTimeouts:
                ("agentledger_ingest_hello_timeouts_total", "Ingest links closed for not completing HELLO in time.")
            case .ingestIdleClosed:
                ("agentledger_ingest_idle_closed_total", "Ingest links closed for no whole frame within the idle timeout.")
            case .ingestTLSFailures:
                (
                    "agentledger_ingest_tls_failures_total",
                    "Ingest links closed by TLS: a failed handshake (no or untrusted client certificate) or a TLS error."
                )
            }
        }
    }

    private let values: Mutex<[Int]>

    package init() {
        values = Mutex(Array(repeating: 0, count: Name.allCases.count))
    }

    package func add(_ name: Name, _ amount: Int = 1) {
        values.withLock { $0[name.rawValue] += amount }
    }

    package func value(_ name: Name) -> Int {
        values.withLock { $0[name.rawValue] }
    }

    /// The Prometheus text exposition of every counter.
    package func prometheusText() -> String {
        let snapshot = values.withLock { $0 }
        var out = ""
        for name in Name.allCases {
            let (metric, help) = name.metric
            out += "# HELP \(metric) \(help)\n# TYPE \(metric) counter\n\(metric) \(snapshot[name.rawValue])\n"
        }
        return out
    }
}
