import ArgumentParser
import Collector
import Foundation
import Logging
import MCP
import ServiceLifecycle

/// `agentledger mcp`: the collector's MCP tools over stdio, for an assistant on the same machine as the store
/// (docs/operations.md, "MCP"). Reads the store `AGENTLEDGER_DSN` names; writes nothing but JSON-RPC to standard
/// output, logs to standard error.
struct MCPCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mcp",
        abstract: "Serve the MCP tools over stdio for a local assistant, reading the store.",
        discussion: """
            Reads one JSON-RPC message per line on standard input and answers on standard output; logs go to standard \
            error. The budgets tool reports the AGENTLEDGER_BUDGET_* and AGENTLEDGER_RATE_LIMIT_* settings given here \
            against today's spend in the store; a running collector's /mcp also sees reservations.
            """)

    @Option(
        help:
            "The store to read: sqlite:///path or postgres://user:pw@host:port/db. [env: AGENTLEDGER_DSN; default \(Defaults.dsn)]"
    )
    var dsn: String?
    @OptionGroup(title: "Budgets and rate limits") var enforcement: EnforcementOptions

    func run() async throws {
        KnownVariables.warnAboutUnknown()
        try await withConfigurationErrors {
            let settings = Settings()
            let logger = Runtime.logger("agentledger.mcp")
            let policy = try Runtime.enforcementPolicy(enforcement, settings: settings)
            let dsn = settings.string(dsn, "AGENTLEDGER_DSN", default: Defaults.dsn)
            // A typo in a path must not quietly make an empty store that every tool then reads as "nothing".
            if dsn.hasPrefix("sqlite:///") {
                let path = String(dsn.dropFirst("sqlite:///".count))
                guard path.isEmpty || FileManager.default.fileExists(atPath: path) else {
                    throw ConfigurationError(description: "AGENTLEDGER_DSN: no SQLite store at \(path)")
                }
            }
            let store = try await Runtime.openStore(dsn: dsn, logger: logger)
            let tools = MCPTools(store: store, budgets: .configured(policy))
            let stdio = MCPStdioService(tools: tools, logger: logger)
            do {
                // The Postgres store runs its pool as a service, first so it stops last. The end of input ends the
                // stdio service, and with it the process, without an error.
                var services = (store as? any Service).map { [ServiceGroupConfiguration.ServiceConfiguration(service: $0)] } ?? []
                services.append(.init(service: stdio, successTerminationBehavior: .gracefullyShutdownGroup))
                var configuration = ServiceGroupConfiguration(
                    services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
                configuration.maximumGracefulShutdownDuration = ShutdownDeadline.grace
                try await ServiceGroup(configuration: configuration).run()
            } catch {
                try? await store.close()
                throw error
            }
            try await store.close()
        }
    }
}

/// Serves the tools on standard input and output until input ends or shutdown is asked.
struct MCPStdioService: Service {
    let tools: MCPTools
    let logger: Logger

    func run() async throws {
        let server = await MCPServerFactory.make(tools: tools, version: AgentLedger.configuration.version)
        try await server.start(transport: StdioLineTransport(logger: logger))
        logger.info("MCP server on stdio")
        await withGracefulShutdownHandler {
            await server.waitUntilCompleted()
        } onGracefulShutdown: {
            Task { await server.stop() }
        }
        await server.stop()
    }
}
