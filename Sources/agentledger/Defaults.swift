import Collector
import Sidecar

/// The default of each setting, stated once: the options' help (`Options.swift`) and the resolution (`Runtime`) both
/// read it here, and where a module's configuration already states it, it is read from that configuration. The
/// README's configuration table repeats them for readers.
enum Defaults {
    // The agent-facing listener.
    static let sidecarHost = "127.0.0.1"
    /// `up` and `demo` serve the dashboard on the agent port, so they listen on every address.
    static let upHost = "0.0.0.0"
    static let agentPort = 8000
    /// Store upkeep (partitions, retention) runs at start and then this often.
    static let maintenanceIntervalS = 3_600

    // The proxy.
    static let upstreamURL = ProxyConfiguration().upstreamURL
    static let maxBodyMB = ProxyConfiguration().maxBodyBytes >> 20
    static let onCollectorDown = ProxyConfiguration().refuseWhenCollectorDown ? "closed" : "open"
    static let admissionTimeoutMs = 500
    static let enforcerLeaseMs = 5_000
    static let maxAgentConnections = ProxyConfiguration().maxConnections
    static let requestHeadTimeoutMs = ProxyConfiguration().requestHeadTimeout.wholeMilliseconds
    static let requestBodyTimeoutMs = ProxyConfiguration().requestBodyTimeout.wholeMilliseconds
    static let agentIdleTimeoutMs = ProxyConfiguration().agentIdleTimeout.wholeMilliseconds
    /// Never below `AGENTLEDGER_MAX_BODY_MB`: one body must always fit.
    static let maxBufferedMB = ProxyConfiguration().maxBufferedBodyBytes >> 20

    // The sidecar's link and spool.
    static let collectorHost = "127.0.0.1"
    static let collector = "\(collectorHost):\(ingestPort)"
    static let spoolDir = "./agentledger-spool"
    static let spoolMaxMB = Spool.Configuration(directory: spoolDir).maxBytes >> 20

    // The collector.
    static let dsn = "sqlite:///agentledger.db"
    static let ingestHost = IngestServer.Configuration().host
    static let ingestPort = IngestServer.Configuration().port
    static let ingestMaxLinks = IngestServer.Configuration().maxLinks
    static let ingestMaxUnauthenticated = IngestServer.Configuration().maxUnauthenticatedLinks
    static let ingestMaxBufferedMB = IngestServer.Configuration().maxBufferedBytes >> 20
    static let httpHost = "0.0.0.0"
    static let httpPort = 8080
    static let otelServiceName = OTLPExportConfiguration(tracesURL: "").serviceName
    static let otelProtocol = OTLPExportConfiguration(tracesURL: "").encoding.rawValue
    static let otelBatchSize = OTLPExportConfiguration(tracesURL: "").batchSize
    static let otelBatchDelayMs = OTLPExportConfiguration(tracesURL: "").batchDelay.wholeMilliseconds
    static let otelQueueSize = OTLPExportConfiguration(tracesURL: "").queueSize
    static let otelTimeoutMs = OTLPExportConfiguration(tracesURL: "").timeout.wholeMilliseconds
    static let otlpMaxBodyMB = 16
    static let admissionDefaultMaxTokens = EnforcementPolicy().defaultMaxTokens
    static let admissionMode = EnforcementPolicy().admissionMode.rawValue
    static let admissionExpectedOutputTokens = EnforcementPolicy().expectedOutputTokens
    static let unpricedModels = "admit"
    static let rateLimitWindowMs = Int(EnforcementPolicy().rateWindowMicros / 1000)

    // `demo` keeps its records apart from a real `up`'s.
    static let demoDSN = "sqlite:///agentledger-demo.db"
    static let demoSpoolDir = "./agentledger-demo-spool"

    // `mock-upstream`.
    static let mockHost = "127.0.0.1"
    static let mockPort = 9000
}

extension Duration {
    /// The duration in whole milliseconds, for settings stated in ms.
    fileprivate var wholeMilliseconds: Int {
        let parts = components
        return Int(parts.seconds) * 1000 + Int(parts.attoseconds / 1_000_000_000_000_000)
    }
}
