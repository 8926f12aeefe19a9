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
    /// The longest pause in an upstream's response once its head has arrived; then the agent gets what came and the
    /// connection ends, as when the upstream fails mid-response. Not counted while the agent is the one not reading.
    /// Default 10 minutes.
    package var upstreamStallTimeout: Duration = .seconds(600)

    /// `AGENTLEDGER_MAX_AGENT_CONNECTIONS`: agent connections open at once; a connection above it is answered 503
    /// and closed. Default 1024.
    package var maxConnections: Int = 1024
    /// `AGENTLEDGER_REQUEST_HEAD_TIMEOUT_MS`: from a request's first byte to the end of its head; then 408 and
    /// close. Default 10 s.
    package var requestHeadTimeout: Duration = .seconds(10)
    /// `AGENTLEDGER_REQUEST_BODY_TIMEOUT_MS`: the longest pause between two reads of a request body; then 408 and
    /// close. Default 30 s.
    package var requestBodyTimeout: Duration = .seconds(30)
    /// `AGENTLEDGER_AGENT_IDLE_TIMEOUT_MS`: a connection with no request under way is closed after this. Default 60 s.
    package var agentIdleTimeout: Duration = .seconds(60)
    /// `AGENTLEDGER_MAX_BUFFERED_MB` in bytes: request bodies held in memory across all agent connections; a body
    /// that would pass it is answered 503 and its connection closed. Default 128 MiB (and never below
    /// `maxBodyBytes`).
    package var maxBufferedBodyBytes: Int = 128 << 20

    /// `AGENTLEDGER_ON_COLLECTOR_DOWN=closed`: refuse captured calls with 503 while no collector link is up.
    /// Default false (`open`): keep forwarding and queue the records.
    package var refuseWhenCollectorDown = false

    package init() {}
}
