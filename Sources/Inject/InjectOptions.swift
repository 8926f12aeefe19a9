/// What `agentledger inject` puts into a workload (docs/operations.md, "Kubernetes"): where the sidecar ships its
/// records, which image runs it, and how large its spool may grow.
package struct InjectOptions: Sendable, Equatable {
    /// The collector's ingest address, `host:port` (`AGENTLEDGER_COLLECTOR` of the sidecar).
    package var collector = "agentledger-ingest.agentledger.svc.cluster.local:4600"
    /// The image with the `agentledger` binary (deploy/Dockerfile).
    package var image = "agentledger:latest"
    /// The Secret holding the ingest token, and its key (`AGENTLEDGER_INGEST_TOKEN` of the sidecar).
    package var tokenSecret = "agentledger-ingest-token"
    package var tokenSecretKey = "token"
    /// `AGENTLEDGER_SPOOL_MAX_MB`; the spool volume is a little larger, so the bound is the sidecar's, not the kubelet's.
    package var spoolMB = 512
    /// Where the sidecar forwards calls (`AGENTLEDGER_UPSTREAM_URL`). Its host decides which SDK variable the agent
    /// containers get: `ANTHROPIC_BASE_URL` for api.anthropic.com, `OPENAI_BASE_URL` for everything else.
    package var upstreamURL = "https://api.openai.com"
    /// The sidecar's port in the pod (`AGENTLEDGER_PORT`).
    package var port = 8000
    /// `AGENTLEDGER_ON_COLLECTOR_DOWN`: `open` or `closed`.
    package var onCollectorDown = "open"

    package init() {}

    /// The name of the native sidecar (an init container with `restartPolicy: Always`).
    package static let containerName = "agentledger-sidecar"
    /// The spool's `emptyDir` volume.
    package static let volumeName = "agentledger-spool"
    /// The label that lets a pod reach the collector's ingest port through k8s/base's NetworkPolicy.
    package static let agentLabel = "agentledger.io/agent"
    /// Where inject records what it added, so `--uninject` removes exactly that.
    package static let recordAnnotation = "agentledger.io/injected"
    /// Shortest pod grace period inject leaves: the agent's own shutdown, then the sidecar's (at most 25 s, in which
    /// it finishes calls in flight and drains its link; docs/operations.md, "Shutdown").
    package static let minimumGraceSeconds = 60

    /// The `emptyDir` size limit in MiB: the spool's bound plus a quarter (at least 16 MiB) for the segment being
    /// written past it before the oldest is dropped.
    package var spoolVolumeMB: Int { spoolMB + max(16, spoolMB / 4) }

    /// The agent's SDK variable and its value, pointing at the sidecar.
    package var baseURL: (name: String, value: String) {
        if Self.host(of: upstreamURL) == "api.anthropic.com" {
            return ("ANTHROPIC_BASE_URL", "http://127.0.0.1:\(port)")
        }
        return ("OPENAI_BASE_URL", "http://127.0.0.1:\(port)/v1")
    }

    /// The problem with these options, or nil when they can be used.
    package func validationError() -> String? {
        guard let colon = collector.lastIndex(of: ":"), colon != collector.startIndex,
            let collectorPort = Int(collector[collector.index(after: colon)...]), (1...65535).contains(collectorPort)
        else { return "--collector '\(collector)' is not host:port" }
        if image.isEmpty || image.contains(where: \.isWhitespace) { return "--image '\(image)' is not an image reference" }
        if !Self.isDNSLabel(tokenSecret) { return "--token-secret '\(tokenSecret)' is not a Secret name" }
        if tokenSecretKey.isEmpty { return "--token-secret-key is empty" }
        if !(1...1_048_576).contains(spoolMB) { return "--spool-mb \(spoolMB) is not from 1 to 1048576" }
        if Self.host(of: upstreamURL) == nil { return "--upstream-url '\(upstreamURL)' is not an http:// or https:// URL" }
        if !(1...65535).contains(port) { return "--port \(port) is not from 1 to 65535" }
        if onCollectorDown != "open" && onCollectorDown != "closed" {
            return "--on-collector-down '\(onCollectorDown)' is neither open nor closed"
        }
        return nil
    }

    static func host(of url: String) -> String? {
        let lower = url.lowercased()
        guard let rest = ["https://", "http://"].first(where: lower.hasPrefix).map({ lower.dropFirst($0.count) })
        else { return nil }
        let authority = rest.prefix { $0 != "/" && $0 != "?" }
        let host = authority.hasPrefix("[") ? authority : authority.prefix { $0 != ":" }
        return host.isEmpty ? nil : String(host)
    }

    static func isDNSLabel(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 253
            && name.allSatisfy { ($0.isASCII && ($0.isLowercase || $0.isNumber)) || $0 == "-" || $0 == "." }
            && name.first != "-" && name.last != "-"
    }
}
