import ArgumentParser
import Foundation
import Hummingbird
import MockUpstream
import NIOCore
import NIOPosix
import ServiceLifecycle

/// `up` in front of a built-in simulated upstream, plus a short multi-agent run, so a newcomer without an API key
/// sees a full dashboard within seconds.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run `up` against a simulated LLM upstream and play a short multi-agent run through it.",
        discussion: """
            Takes the options of `up` but --upstream-url: calls go to the built-in simulated upstream, never to a \
            real provider. Unless set, the store is \(Defaults.demoDSN) and the spool \(Defaults.demoSpoolDir), \
            apart from a real `up`'s.
            """)

    @OptionGroup var listen: ListenOptions
    @OptionGroup var proxy: ProxyOptions
    @OptionGroup var spool: SpoolOptions
    @OptionGroup var collectorOptions: CollectorOptions
    @OptionGroup var token: TokenOptions

    func run() async throws {
        KnownVariables.warnAboutUnknown()
        try await withConfigurationErrors {
            var settings = Settings()
            let mockPort = try await Self.freeLoopbackPort()
            // The demo never talks to a real provider, and keeps its records apart from a real `up`'s.
            settings.environment["AGENTLEDGER_UPSTREAM_URL"] = "http://127.0.0.1:\(mockPort)"
            if settings.environment["AGENTLEDGER_DSN", default: ""].isEmpty {
                settings.environment["AGENTLEDGER_DSN"] = Defaults.demoDSN
            }
            if settings.environment["AGENTLEDGER_SPOOL_DIR", default: ""].isEmpty {
                settings.environment["AGENTLEDGER_SPOOL_DIR"] = Defaults.demoSpoolDir
            }
            let mock = MockUpstream.makeApplication(
                host: "127.0.0.1", port: mockPort, logger: Runtime.logger("agentledger.demo-upstream"))
            let both = BothHalves(
                listen: listen, upstreamURL: nil, proxy: proxy, spool: spool, collectorOptions: collectorOptions,
                token: token)
            try await both.serve(banner: "AgentLedger demo (simulated upstream)", settings: settings, extraServices: [mock]) {
                port, ingest in
                Task {
                    let summary = await DemoRun(proxyPort: port).play()
                    FileHandleOutput.standardOutput(summary)
                }
                // A day of a fleet's history from simulated pods, then their live calls while the demo runs.
                if let ingest {
                    Task { await DemoFleet(ingest: ingest, logger: Runtime.logger("agentledger.demo-fleet")).run() }
                }
            }
        }
    }

    /// A loopback port that was free a moment ago, for the simulated upstream.
    static func freeLoopbackPort() async throws -> Int {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        let port = channel.localAddress?.port ?? 0
        try await channel.close()
        return port
    }
}
