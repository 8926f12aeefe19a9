/// In `agentledger up` one port serves the proxy and the collector's dashboard and API: the paths `owns` accepts
/// go to the in-process HTTP server at `address` instead of the upstream, uncaptured, WebSocket upgrades included.
package struct LocalRoutes: Sendable {
    let owns: @Sendable (Substring) -> Bool
    let address: UpstreamAddress
    let pools: UpstreamPools

    /// `port` is where the in-process server listens on 127.0.0.1.
    package init(port: Int, owns: @escaping @Sendable (Substring) -> Bool) throws {
        self.owns = owns
        address = UpstreamAddress("http://127.0.0.1:\(port)")!
        pools = try UpstreamPools(address: address)
    }
}
