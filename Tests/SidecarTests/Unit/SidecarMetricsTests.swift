import LedgerAdmission
import LedgerMetrics
import Prometheus
import Testing

@testable import Sidecar

@Suite("SidecarMetrics")
struct SidecarMetricsTests {
    /// `name value` for each sample line, `# TYPE` lines as `type NAME` -> `KIND`.
    static func lines(_ text: String) -> [String: String] {
        var lines: [String: String] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("# HELP ") {
            if line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                lines["type \(parts[2])"] = String(parts[3])
            } else {
                let space = line.lastIndex(of: " ")!
                lines[String(line[..<space])] = String(line[line.index(after: space)...])
            }
        }
        return lines
    }

    @Test func countersGaugesAndTheHistogramRenderFromTheSidecarsRegistry() {
        let registry = PrometheusCollectorRegistry()
        let shipper = Shipper(registry: registry)
        let admission = AdmissionClient(registry: registry)
        let load = AgentLoad(maxConnections: 10, maxBufferedBytes: 1 << 20)
        let metrics = SidecarMetrics(shipper: shipper, admission: admission, load: load)
        shipper.counters.add(.captured, 3)
        shipper.counters.add(.refusedByCollector)
        #expect(load.admitConnection() && load.admitConnection() && load.reserveBody(1234))
        admission.latency.record(.microseconds(60))

        let text = metrics.prometheusText()
        let lines = Self.lines(text)
        #expect(lines["type agentledger_sidecar_calls_captured_total"] == "counter")
        #expect(lines["agentledger_sidecar_calls_captured_total"] == "3")
        #expect(lines["agentledger_sidecar_refused_by_collector_total"] == "1")
        #expect(lines["agentledger_sidecar_calls_dropped_total"] == "0")
        #expect(lines["type agentledger_sidecar_agent_connections"] == "gauge")
        #expect(lines["agentledger_sidecar_agent_connections"].flatMap(Double.init) == 2)
        #expect(lines["agentledger_sidecar_buffered_body_bytes"].flatMap(Double.init) == 1234)
        #expect(lines["agentledger_sidecar_collector_link_up"].flatMap(Double.init) == 0)
        #expect(lines["agentledger_sidecar_spool_bytes"].flatMap(Double.init) == 0)
        #expect(lines["type agentledger_sidecar_admission_seconds"] == "histogram")
        #expect(lines[#"agentledger_sidecar_admission_seconds_bucket{le="0.00005"}"#] == "0")
        #expect(lines[#"agentledger_sidecar_admission_seconds_bucket{le="0.000075"}"#] == "1")
        #expect(lines[#"agentledger_sidecar_admission_seconds_bucket{le="+Inf"}"#] == "1")
        #expect(lines["agentledger_sidecar_admission_seconds_sum"] == "0.00006")
        // Every family has its HELP line, once, right before its TYPE line.
        let all = text.split(separator: "\n")
        for (index, line) in all.enumerated() where line.hasPrefix("# TYPE ") {
            let name = line.split(separator: " ")[2]
            #expect(index > 0 && all[index - 1].hasPrefix("# HELP \(name) "), "\(name) has no HELP")
            #expect(all.filter { $0.hasPrefix("# TYPE \(name) ") }.count == 1)
        }

        // Gauges follow what they read, scrape after scrape.
        load.connectionClosed()
        #expect(Self.lines(metrics.prometheusText())["agentledger_sidecar_agent_connections"].flatMap(Double.init) == 1)
    }

    @Test func twoSidecarsInOneProcessKeepTheirOwnCounts() {
        let first = Shipper()
        let second = Shipper()
        let firstMetrics = SidecarMetrics(shipper: first, admission: AdmissionClient(registry: first.counters.registry))
        // An admission client on a registry of its own is rendered too.
        let secondMetrics = SidecarMetrics(shipper: second, admission: AdmissionClient())
        first.counters.add(.captured, 5)
        #expect(Self.lines(firstMetrics.prometheusText())["agentledger_sidecar_calls_captured_total"] == "5")
        let secondLines = Self.lines(secondMetrics.prometheusText())
        #expect(secondLines["agentledger_sidecar_calls_captured_total"] == "0")
        #expect(secondLines["agentledger_sidecar_admission_seconds_count"] == "0")
        #expect(secondLines["agentledger_sidecar_agent_connections"] == nil, "no proxy, no load gauges")
    }
}
