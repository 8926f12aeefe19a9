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
        try await withConfigurationErrors {
            let settings = Settings()
            let logger = Runtime.logger("agentledger.collector")
            let host = settings.string(http.httpHost, "AGENTLEDGER_HTTP_HOST", default: "0.0.0.0")
            let port = try settings.port(http.httpPort, "AGENTLEDGER_HTTP_PORT", default: 8080)
            let collector = try await Runtime.collector(collectorOptions, token: token, settings: settings, logger: logger)
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
                          ingest  \(collector.ingest.configuration.host):\(collector.ingest.port)
                          store   \(collector.dsn)

                        """)
                },
                logger: logger)
            do {
                // The Postgres store runs its pool as a service, first so it stops last.
                let store = collector.store as? any Service
                let services: [any Service] = (store.map { [$0] } ?? []) + collector.services + [app]
                try await Runtime.run(services, logger: logger)
            } catch {
                try? await collector.store.close()
                throw error
            }
            try await collector.store.close()
        }
    }
}
