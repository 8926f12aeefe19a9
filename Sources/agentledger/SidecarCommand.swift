import ArgumentParser
import Hummingbird
import Sidecar

/// The per-pod forwarding proxy: forwards every call, ships records to the collector.
struct SidecarCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sidecar", abstract: "Run the agent-facing proxy that ships records to a collector.")

    @OptionGroup var listen: ListenOptions
    @OptionGroup var upstream: UpstreamOptions
    @OptionGroup var proxy: ProxyOptions
    @OptionGroup var link: LinkOptions
    @OptionGroup var spool: SpoolOptions
    @OptionGroup var token: TokenOptions

    func run() async throws {
        KnownVariables.warnAboutUnknown()
        try await withConfigurationErrors {
            let settings = Settings()
            let logger = Runtime.logger("agentledger.sidecar")
            let host = settings.string(listen.host, "AGENTLEDGER_HOST", default: Defaults.sidecarHost)
            let port = try settings.port(listen.port, "AGENTLEDGER_PORT", default: Defaults.agentPort)
            // The agent port is bound once before the spool opens: a taken port is one line and exit 2.
            let agent = Listener(portVariable: "AGENTLEDGER_PORT", hostVariable: "AGENTLEDGER_HOST", host: host, port: port)
            let resolved = try Runtime.sidecarSettings(
                proxy, upstreamURL: upstream.upstreamURL, link: link, spool: spool, token: token, settings: settings)
            try await ListenerCheck.check([agent])
            let sidecar = try Runtime.sidecar(resolved, logger: logger)
            let listening = ListeningPort()
            let server = ProxyServer(
                host: host, port: port, core: sidecar.core,
                onListening: { bound in
                    FileHandleOutput.standardOutput(
                        "AgentLedger sidecar: proxy http://\(host):\(bound) -> \(sidecar.configuration.upstreamURL)\n")
                    listening.fill(bound)
                    StartupPages.releaseAfterStartUp(logger: logger)
                })
            // The link starts once the proxy listens: a port lost at the last moment leaves no link behind.
            try await Runtime.run(
                [StartAfter(ready: listening, service: sidecar.link), NamedListener(listener: agent, service: server)],
                logger: logger)
        }
    }
}
