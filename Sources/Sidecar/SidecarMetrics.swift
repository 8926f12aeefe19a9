import LedgerAdmission
import LedgerMetrics
import Prometheus

/// The sidecar's metrics (docs/operations.md, "Metrics"): its counters (`SidecarCounters`, kept by the shipper), the
/// admission histogram (kept by the admission client), and gauges of what waits to be delivered and of the agents'
/// load, read when scraped. All of them live in the sidecar instance's one registry.
package final class SidecarMetrics: Sendable {
    /// The path the sidecar serves its own metrics on; every other path is proxied.
    package static let path = "/agentledger/metrics"

    private let shipper: Shipper
    private let load: AgentLoad?
    /// What to render, each registry once: the shipper's and the admission client's, one registry in a sidecar.
    private let registries: [PrometheusCollectorRegistry]
    private let spoolBytes: Gauge
    private let queuedBytes: Gauge
    private let linkUp: Gauge
    private let agentConnections: Gauge?
    private let bufferedBodyBytes: Gauge?

    /// `load`: the agent-facing proxy's connections and buffered bodies, when it runs in this process.
    package init(shipper: Shipper, admission: AdmissionClient, load: AgentLoad? = nil) {
        self.shipper = shipper
        self.load = load
        let registry = shipper.counters.registry
        registries = registry === admission.registry ? [registry] : [registry, admission.registry]
        spoolBytes = registry.makeGauge(
            descriptor: .init("agentledger_sidecar_spool_bytes", help: "Bytes in the spool, delivered or not."))
        queuedBytes = registry.makeGauge(
            descriptor: .init("agentledger_sidecar_queued_bytes", help: "Bytes of records in memory awaiting an ACK."))
        linkUp = registry.makeGauge(
            descriptor: .init("agentledger_sidecar_collector_link_up", help: "1 while the collector link is established."))
        agentConnections = load.map { _ in
            registry.makeGauge(descriptor: .init("agentledger_sidecar_agent_connections", help: "Agent connections open."))
        }
        bufferedBodyBytes = load.map { _ in
            registry.makeGauge(
                descriptor: .init("agentledger_sidecar_buffered_body_bytes", help: "Bytes of request bodies held in memory."))
        }
    }

    /// Reads the gauges, then appends every metric of the sidecar to `text` in the Prometheus text format.
    package func emit(into text: inout [UInt8]) {
        spoolBytes.set(to: Double(shipper.spoolBytes))
        queuedBytes.set(to: Double(shipper.queuedBytes))
        linkUp.set(to: shipper.isLinkReady ? 1 : 0)
        if let load {
            agentConnections?.set(to: Double(load.openConnections))
            bufferedBodyBytes?.set(to: Double(load.bufferedBytes))
        }
        for registry in registries { registry.emit(into: &text) }
    }

    /// The metrics as one Prometheus text exposition.
    package func prometheusText() -> String {
        var text: [UInt8] = []
        text.reserveCapacity(8 * 1024)
        emit(into: &text)
        return String(decoding: text, as: UTF8.self)
    }
}
