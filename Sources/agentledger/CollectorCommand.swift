import ArgumentParser
import Collector
import Hummingbird
import ServiceLifecycle

/// The fleet's collector: ingest, store and API.
struct CollectorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "collector", abstract: "Run the collector: ingest from sidecars, store, API.")

    @OptionGroup var http: HTTPOptions
    @OptionGroup var collectorOptions: CollectorOptions
    @OptionGroup var token: TokenOptions

    func run() async throws {
        KnownVariables.warnAboutUnknown()
        try await withConfigurationErrors {
            let settings = Settings()
            let logger = Runtime.logger("agentledger.collector")
            let host = settings.string(http.httpHost, "AGENTLEDGER_HTTP_HOST", default: Defaults.httpHost)
            let port = try settings.port(http.httpPort, "AGENTLEDGER_HTTP_PORT", default: Defaults.httpPort)
            // Both listeners are bound once before the store opens: a taken port is one line and exit 2.
            let http = Listener(
                portVariable: "AGENTLEDGER_HTTP_PORT", hostVariable: "AGENTLEDGER_HTTP_HOST", host: host, port: port)
            let collector = try await Runtime.collector(
                collectorOptions, token: token, settings: settings, listeners: [http], logger: logger)
            let router = Router()
            try collector.addRoutes(to: router, settings: settings)
            let app = Application(
                router: router,
                server: collector.webSocketServer(),
                configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: nil),
                onServerRunning: { channel in
                    FileHandleOutput.standardOutput(
                        """
                        AgentLedger collector
                          api     http://\(host):\(channel.localAddress?.port ?? port)/
                          ingest  \(collector.ingest.configuration.host):\(collector.ingest.port)\(collector.ingest.configuration.tls == nil ? "" : " (TLS)")
                          store   \(collector.dsn)

                        """)
                    var served = http
                    served.port = channel.localAddress?.port ?? port
                    collector.warnAboutOpenListeners(http: served, logger: logger)
                },
                logger: logger)
            do {
                // The Postgres store runs its pool as a service, first so it stops last.
                let store = collector.store as? any Service
                let services: [any Service] =
                    (store.map { [$0] } ?? []) + collector.services + [NamedListener(listener: http, service: app)]
                try await Runtime.run(services, logger: logger)
            } catch {
                try? await collector.store.close()
                throw error
            }
            try await collector.store.close()
        }
    }
}
