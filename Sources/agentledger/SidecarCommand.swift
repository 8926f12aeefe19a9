import ArgumentParser
import Hummingbird
import Sidecar

/// The per-pod forwarding proxy: forwards every call, ships records to the collector.
struct SidecarCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sidecar", abstract: "Run the agent-facing proxy that ships records to a collector.")

    @OptionGroup var listen: ListenOptions
    @OptionGroup var proxy: ProxyOptions
    @OptionGroup var link: LinkOptions
    @OptionGroup var spool: SpoolOptions
    @OptionGroup var token: TokenOptions

    func run() async throws {
        try await withConfigurationErrors {
            let settings = Settings()
            let logger = Runtime.logger("agentledger.sidecar")
            let host = settings.string(listen.host, "AGENTLEDGER_HOST", default: "127.0.0.1")
            let port = try settings.port(listen.port, "AGENTLEDGER_PORT", default: 8000)
            let sidecar = try Runtime.sidecar(
                try Runtime.sidecarSettings(proxy, link: link, spool: spool, token: token, settings: settings), logger: logger)
            let app = Application(
                responder: SidecarResponder(proxy: sidecar.proxy),
                configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: nil),
                onServerRunning: { channel in
                    FileHandleOutput.standardOutput(
                        "AgentLedger sidecar: proxy http://\(host):\(channel.localAddress?.port ?? port) -> \(sidecar.configuration.upstreamURL)\n"
                    )
                    // Start-up (argument parsing, relocation, spool recovery, the link's first connect) is over
                    // within a second of listening; the code only it used is handed back, once. Not awaited here:
                    // the server accepts connections only after this closure returns.
                    Task {
                        try? await Task.sleep(for: .seconds(1))
                        let released = StartupPages.release()
                        logger.debug(
                            "start-up pages released",
                            metadata: ["mappings": "\(released.mappings)", "bytes": "\(released.bytes)"])
                    }
                },
                logger: logger)
            try await Runtime.run([sidecar.link, app], logger: logger)
            try await sidecar.client.shutdown()
        }
    }
}
