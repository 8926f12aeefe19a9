import ArgumentParser
import Hummingbird
import MockUpstream

/// A scripted LLM upstream for tests and benchmarks (not for production).
struct MockUpstreamCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mock-upstream",
        abstract: "Run a scripted OpenAI/Anthropic upstream for tests and benchmarks (not a real provider).")

    @Option(help: "Address to listen on. [no env variable; default \(Defaults.mockHost)]")
    var host: String?
    @Option(help: "Port to listen on; 0 picks a free one. [no env variable; default \(Defaults.mockPort)]")
    var port: Int?

    func run() async throws {
        KnownVariables.warnAboutUnknown()
        let app = MockUpstream.makeApplication(
            host: host ?? Defaults.mockHost, port: port ?? Defaults.mockPort, logger: Runtime.logger("agentledger.mock"))
        try await app.runService()
    }
}
