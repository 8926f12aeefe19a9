import ArgumentParser
import Hummingbird
import MockUpstream

/// A scripted LLM upstream for tests and benchmarks (not for production).
struct MockUpstreamCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mock-upstream", abstract: "Run a mock OpenAI/Anthropic upstream for tests.", shouldDisplay: false)

    @Option var host = "127.0.0.1"
    @Option var port = 9000

    func run() async throws {
        let app = MockUpstream.makeApplication(host: host, port: port, logger: Runtime.logger("agentledger.mock"))
        try await app.runService()
    }
}
