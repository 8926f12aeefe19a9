import LedgerProtocol
import NIOHTTP1

/// The sidecar's own probes, for a kubelet or a load balancer (docs/reference.md, "Sidecar probes"): answered by
/// the proxy itself on its agent port, never forwarded.
///
/// - `GET /agentledger/healthz`: 200 `{"status":"ok"}` whenever the proxy listens (a liveness or startup probe).
/// - `GET /agentledger/readyz`: 200 `{"status":"ready"}` when a call sent now would be served; with
///   `AGENTLEDGER_ON_COLLECTOR_DOWN=closed` that needs the collector link up, so until then it is 503 with the reason.
package enum SidecarProbe: Equatable, Sendable {
    case health
    case readiness

    package static let healthPath = "/agentledger/healthz"
    package static let readinessPath = "/agentledger/readyz"

    /// The probe a request asks for, or nil for every other request (those are proxied). Any method other than
    /// GET or HEAD on a probe path is still a probe, answered 405, so it never reaches the upstream.
    package init?(path: Substring) {
        switch path {
        case Self.healthPath: self = .health
        case Self.readinessPath: self = .readiness
        default: return nil
        }
    }

    /// What the probe answers: its status and JSON body.
    package struct Answer: Equatable, Sendable {
        package let status: HTTPResponseStatus
        package let body: String
    }

    /// The answer, from the method and the sidecar's state: `refusesWhenCollectorDown` is closed mode,
    /// `linkReady` whether the collector link has said HELLO and got WELCOME.
    package func answer(method: HTTPMethod, refusesWhenCollectorDown: Bool, linkReady: Bool) -> Answer {
        guard method == .GET || method == .HEAD else {
            return Answer(
                status: .methodNotAllowed,
                body: #"{"error":{"type":"method_not_allowed","message":"probes answer GET and HEAD only"}}"#)
        }
        switch self {
        case .health:
            return Answer(status: .ok, body: #"{"status":"ok"}"#)
        case .readiness:
            if refusesWhenCollectorDown && !linkReady {
                let reason =
                    "no collector link, and AGENTLEDGER_ON_COLLECTOR_DOWN=closed refuses captured calls until there is one"
                return Answer(
                    status: .serviceUnavailable,
                    body: #"{"status":"not_ready","reason":"collector_unavailable","message":\#(JSONString.quoted(reason))}"#)
            }
            return Answer(
                status: .ok, body: #"{"status":"ready","collector_link":\#(linkReady ? #""up""# : #""down""#)}"#)
        }
    }
}
