import LedgerMetrics

/// Requests the HTTP side refused before any route ran, exposed at `/metrics` as
/// `agentledger_http_refused_total{reason=...}` (docs/operations.md, "HTTP API and dashboard").
package typealias AccessCounters = Counters<AccessRefusal>

/// Why a request was refused.
package enum AccessRefusal: Int, CounterName {
    /// A `Host` that is a DNS name not allowed (DNS rebinding).
    case host
    /// An `Origin` that is neither the same origin nor allowed.
    case origin

    package var metric: CounterMetric {
        let help = "HTTP requests refused for their Host or Origin header."
        return switch self {
        case .host: CounterMetric("agentledger_http_refused_total", help, labels: [("reason", "host")])
        case .origin: CounterMetric("agentledger_http_refused_total", help, labels: [("reason", "origin")])
        }
    }
}

extension Counters where Name == AccessRefusal {
    /// Counts a request refused for its `Host` or `Origin`.
    package func add(_ refusal: HostOriginPolicy.Refusal) {
        switch refusal {
        case .host: add(.host)
        case .origin: add(.origin)
        }
    }
}
