import ArgumentParser
import Collector
import Hummingbird
import ServiceLifecycle
import Sidecar

/// Collector and sidecar in one process on one port: the single-machine mode.
struct UpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up", abstract: "Run the proxy, collector, API and store in one process (embedded SQLite).")

    @OptionGroup var listen: ListenOptions
    @OptionGroup var proxy: ProxyOptions
    @OptionGroup var spool: SpoolOptions
    @OptionGroup var collectorOptions: CollectorOptions
    @OptionGroup var token: TokenOptions

    func run() async throws {
        try await withConfigurationErrors { try await serve(banner: "AgentLedger up") }
    }

    /// Runs both halves until SIGTERM. `demo` passes its simulated upstream and a task to start once serving.
    func serve(
        banner: String, settings: Settings = Settings(), extraServices: [any Service] = [],
        whenServing: @escaping @Sendable (_ port: Int) -> Void = { _ in }
    ) async throws {
        let logger = Runtime.logger("agentledger")
        let host = settings.string(listen.host, "AGENTLEDGER_HOST", default: "0.0.0.0")
        let port = try settings.port(listen.port, "AGENTLEDGER_PORT", default: 8000)
        // The proxy's settings are checked before the store opens, so a typo never leaves files behind.
        var sidecarSettings = try Runtime.sidecarSettings(proxy, link: nil, spool: spool, token: token, settings: settings)
        let collector = try await Runtime.collector(collectorOptions, token: token, settings: settings, logger: logger)
        // The sidecar half reaches the collector half over loopback TCP, the same path a remote sidecar takes.
        let ingestHost = collector.ingest.configuration.host
        sidecarSettings.collector = (
            ingestHost == "0.0.0.0" || ingestHost == "::" ? "127.0.0.1" : ingestHost, collector.ingest.port
        )
        let sidecar = try Runtime.sidecar(sidecarSettings, logger: logger)

        let router = Router()
        let (shipper, admission, load) = (sidecar.core.shipper, sidecar.admission, sidecar.core.load)
        try collector.addRoutes(
            to: router, settings: settings,
            extraMetrics: { SidecarMetrics.prometheusText(shipper, admission: admission, load: load) })
        // The dashboard and API listen on loopback only; the proxy's port hands their paths to it (`LocalRoutes`).
        let apiPort = ListeningPort()
        let api = Application(
            router: router, server: collector.webSocketServer(),
            configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0), serverName: nil),
            onServerRunning: { apiPort.fill($0.localAddress?.port) }, logger: logger)
        let server = ProxyServer(
            host: host, port: port, core: sidecar.core,
            local: { try LocalRoutes(port: try await apiPort.value()) { CollectorAPI.owns(path: String($0)) } },
            onListening: { bound in
                FileHandleOutput.standardOutput(
                    """
                    \(banner)
                      proxy      http://\(host):\(bound)  ->  \(sidecar.configuration.upstreamURL)
                      dashboard  http://\(host == "0.0.0.0" ? "localhost" : host):\(bound)/
                      ingest     \(collector.ingest.configuration.host):\(collector.ingest.port)
                      store      \(collector.dsn)

                    """)
                whenServing(bound)
            })
        do {
            // The Postgres store runs its pool as a service, first so it stops last.
            let store = collector.store as? any Service
            let services: [any Service] =
                (store.map { [$0] } ?? []) + collector.services + extraServices + [sidecar.link, api, server]
            try await Runtime.run(services, logger: logger)
        } catch {
            try? await collector.store.close()
            throw error
        }
        try await collector.store.close()
    }
}
