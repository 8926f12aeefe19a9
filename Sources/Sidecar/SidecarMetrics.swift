/// The sidecar's Prometheus text: its counters, and gauges of what waits to be delivered.
package enum SidecarMetrics {
    /// The path the sidecar serves its own metrics on; every other path is proxied.
    package static let path = "/agentledger/metrics"

    /// `load`: the agent-facing proxy's connections and buffered bodies, when it runs in this process.
    package static func prometheusText(_ shipper: Shipper, admission: AdmissionClient, load: AgentLoad? = nil) -> String {
        var out = shipper.counters.prometheusText()
        var gauges: [(String, String, Int)] = [
            ("agentledger_sidecar_spool_bytes", "Bytes in the spool, delivered or not.", shipper.spoolBytes),
            ("agentledger_sidecar_queued_bytes", "Bytes of records in memory awaiting an ACK.", shipper.queuedBytes),
            ("agentledger_sidecar_collector_link_up", "1 while the collector link is established.", shipper.isLinkReady ? 1 : 0),
        ]
        if let load {
            gauges.append(("agentledger_sidecar_agent_connections", "Agent connections open.", load.openConnections))
            gauges.append(
                ("agentledger_sidecar_buffered_body_bytes", "Bytes of request bodies held in memory.", load.bufferedBytes))
        }
        for (name, help, value) in gauges {
            out += "# HELP \(name) \(help)\n# TYPE \(name) gauge\n\(name) \(value)\n"
        }
        out += admission.latency.prometheusText(
            name: "agentledger_sidecar_admission_seconds", help: "ADMIT to VERDICT, as this sidecar waited for it.")
        return out
    }
}
