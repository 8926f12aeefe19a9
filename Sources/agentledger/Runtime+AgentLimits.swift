import Sidecar

extension Runtime {
    /// The agent-facing proxy's connection bounds (docs/operations.md, "Agent connections"), validated once.
    static func applyAgentLimits(_ options: AgentLimitOptions, to proxy: inout ProxyConfiguration, settings: Settings) throws {
        proxy.maxConnections = try settings.integer(
            options.maxAgentConnections, "AGENTLEDGER_MAX_AGENT_CONNECTIONS", default: Defaults.maxAgentConnections,
            in: 1...1_000_000)
        proxy.requestHeadTimeout = .milliseconds(
            try settings.integer(
                options.requestHeadTimeoutMs, "AGENTLEDGER_REQUEST_HEAD_TIMEOUT_MS", default: Defaults.requestHeadTimeoutMs,
                in: 100...3_600_000))
        proxy.requestBodyTimeout = .milliseconds(
            try settings.integer(
                options.requestBodyTimeoutMs, "AGENTLEDGER_REQUEST_BODY_TIMEOUT_MS", default: Defaults.requestBodyTimeoutMs,
                in: 100...3_600_000))
        proxy.agentIdleTimeout = .milliseconds(
            try settings.integer(
                options.agentIdleTimeoutMs, "AGENTLEDGER_AGENT_IDLE_TIMEOUT_MS", default: Defaults.agentIdleTimeoutMs,
                in: 100...86_400_000))
        let maxBodyMB = proxy.maxBodyBytes >> 20
        let buffered = try settings.integer(
            options.maxBufferedMB, "AGENTLEDGER_MAX_BUFFERED_MB", default: max(Defaults.maxBufferedMB, maxBodyMB),
            in: 1...1_048_576)
        guard buffered >= maxBodyMB else {
            throw ConfigurationError(
                description:
                    "AGENTLEDGER_MAX_BUFFERED_MB=\(buffered) is smaller than AGENTLEDGER_MAX_BODY_MB=\(maxBodyMB): one body could never be taken"
            )
        }
        proxy.maxBufferedBodyBytes = buffered << 20
    }
}
