import ArgumentParser
import NIOCore
import NIOPosix
import Sidecar

/// The process entry point. Where SwiftNIO can find the Swift runtime's enqueue hook, Swift Concurrency runs on its
/// event loops, so a proxied call does not hop between a concurrency thread and an I/O thread at every await
/// (measured in docs/benchmarks.md). A binary linked with the Swift runtime as shared libraries (`swift build`) has
/// the hook where SwiftNIO looks for it; the static release binary (`--static-swift-stdlib`) does not export it, so
/// there Swift Concurrency keeps its own threads.
@main
enum Entry {
    static func main() async {
        MallocTunables.apply()
        EventLoopSizing.apply()
        _ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        await AgentLedger.main()
    }
}

/// `agentledger`: the sidecar, the collector, or both in one process.
struct AgentLedger: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agentledger",
        abstract: "Capture, price and budget every LLM call your agents make.",
        // The one version string: `--version`, the sidecar's HELLO and every export carry it.
        version: CollectorLink.softwareVersion,
        subcommands: [
            UpCommand.self, DemoCommand.self, SidecarCommand.self, CollectorCommand.self, VerifyExportCommand.self,
            MockUpstreamCommand.self, MCPCommand.self, InjectCommand.self,
        ]
    )
}

extension AsyncParsableCommand {
    /// Runs `body`; a configuration error prints one line naming the variable and exits with code 2.
    func withConfigurationErrors(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let error as ConfigurationError {
            FileHandleOutput.standardError("agentledger: \(error.description)\n")
            throw ExitCode(2)
        }
    }
}
