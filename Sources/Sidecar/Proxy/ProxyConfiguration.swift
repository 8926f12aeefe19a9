/// Settings of the agent-facing proxy.
package struct ProxyConfiguration: Sendable {
    /// `AGENTLEDGER_UPSTREAM_URL`: scheme, host, optional port and path prefix. Default `https://api.openai.com`.
    package var upstreamURL: String = "https://api.openai.com"
    /// `AGENTLEDGER_MAX_BODY_MB` in bytes: larger request bodies get 413. Default 32 MiB.
    package var maxBodyBytes: Int = 32 << 20
    /// `AGENTLEDGER_SOURCE`: stored on every record. Default: the host name.
    package var source: String = "sidecar"
    /// Most response bytes copied into a record; the agent always gets every byte. Default 32 MiB.
    package var maxCapturedResponseBytes: Int = 32 << 20
    /// Time allowed until the upstream's response head arrives. Default 10 minutes (slow models).
    package var upstreamHeadTimeout: Duration = .seconds(600)

    /// `AGENTLEDGER_ON_COLLECTOR_DOWN=closed`: refuse captured calls with 503 while no collector link is up.
    /// Default false (`open`): keep forwarding and queue the records.
    package var refuseWhenCollectorDown = false

    package init() {}

    /// The upstream base without a trailing slash, so a request target can be appended.
    var upstreamBase: Substring {
        var base = Substring(upstreamURL)
        while base.last == "/" { base.removeLast() }
        return base
    }
}
