import LedgerAdmission
import Logging
import NIOSSL

/// What every agent connection of a `ProxyServer` shares: settings, the upstream, and where records go.
package struct ProxyCore: Sendable {
    let configuration: ProxyConfiguration
    let address: UpstreamAddress
    package let shipper: Shipper
    let admission: AdmissionClient
    let logger: Logger
    let pools: UpstreamPools
    /// Open agent connections and buffered request bodies, against their limits.
    package let load: AgentLoad
    /// Answer `GET /agentledger/metrics` (`SidecarMetrics`) instead of forwarding it.
    let servesMetrics: Bool
    /// The sidecar's metrics, gauges of `load` included.
    package let metrics: SidecarMetrics

    /// `tls` replaces the client TLS settings of `https://` upstreams (the system's trust roots); tests use it to
    /// trust their own certificate.
    package init(
        configuration: ProxyConfiguration, shipper: Shipper, admission: AdmissionClient, logger: Logger,
        servesMetrics: Bool = true, tls: TLSConfiguration? = nil
    ) throws {
        guard let address = UpstreamAddress(configuration.upstreamURL) else {
            throw ProxyError.upstreamUnreachable("AGENTLEDGER_UPSTREAM_URL is not an http:// or https:// URL with a host")
        }
        self.configuration = configuration
        self.address = address
        self.shipper = shipper
        self.admission = admission
        self.logger = logger
        self.servesMetrics = servesMetrics
        pools = try UpstreamPools(address: address, tls: tls)
        load = AgentLoad(
            maxConnections: configuration.maxConnections,
            maxBufferedBytes: max(configuration.maxBufferedBodyBytes, configuration.maxBodyBytes))
        metrics = SidecarMetrics(shipper: shipper, admission: admission, load: load)
    }
}
