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
        abstract: "Run `up` against a simulated LLM upstream and play a short multi-agent run through it.")

    @OptionGroup var up: UpCommand

    func run() async throws {
        try await withConfigurationErrors {
            var settings = Settings()
            let mockPort = try await Self.freeLoopbackPort()
            // The demo never talks to a real provider, and keeps its records apart from a real `up`'s.
            settings.environment["AGENTLEDGER_UPSTREAM_URL"] = "http://127.0.0.1:\(mockPort)"
            if settings.environment["AGENTLEDGER_DSN"] == nil {
                settings.environment["AGENTLEDGER_DSN"] = "sqlite:///agentledger-demo.db"
            }
            if settings.environment["AGENTLEDGER_SPOOL_DIR"] == nil {
                settings.environment["AGENTLEDGER_SPOOL_DIR"] = "./agentledger-demo-spool"
            }
            let mock = MockUpstream.makeApplication(
                host: "127.0.0.1", port: mockPort, logger: Runtime.logger("agentledger.demo-upstream"))
            try await up.serve(banner: "AgentLedger demo (simulated upstream)", settings: settings, extraServices: [mock]) {
                port in
                Task {
                    let summary = await DemoRun(proxyPort: port).play()
                    FileHandleOutput.standardOutput(summary)
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
