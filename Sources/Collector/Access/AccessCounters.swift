import Synchronization

/// Requests the HTTP side refused before any route ran, exposed at `/metrics` as
/// `agentledger_http_refused_total{reason=...}` (docs/operations.md, "HTTP API and dashboard").
package final class AccessCounters: Sendable {
    /// Why a request was refused.
    package enum Reason: Int, CaseIterable, Sendable {
        /// A `Host` that is a DNS name not allowed (DNS rebinding).
        case host
        /// An `Origin` that is neither the same origin nor allowed.
        case origin

        var label: String {
            switch self {
            case .host: "host"
            case .origin: "origin"
            }
        }
    }

    private let values = Mutex([Int](repeating: 0, count: Reason.allCases.count))

    package init() {}

    package func add(_ reason: Reason) {
        values.withLock { $0[reason.rawValue] &+= 1 }
    }

    /// Counts a request refused for its `Host` or `Origin`.
    package func add(_ refusal: HostOriginPolicy.Refusal) {
        switch refusal {
        case .host: add(.host)
        case .origin: add(.origin)
        }
    }

    package func value(_ reason: Reason) -> Int {
        values.withLock { $0[reason.rawValue] }
    }

    /// The Prometheus text of the counter, one sample per reason.
    package func prometheusText() -> String {
        let snapshot = values.withLock { $0 }
        var out = "# HELP agentledger_http_refused_total HTTP requests refused for their Host or Origin header.\n"
        out += "# TYPE agentledger_http_refused_total counter\n"
        for reason in Reason.allCases {
            out += "agentledger_http_refused_total{reason=\"\(reason.label)\"} \(snapshot[reason.rawValue])\n"
        }
        return out
    }
}
