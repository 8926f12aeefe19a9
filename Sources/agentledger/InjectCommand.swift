import ArgumentParser
import Foundation
import LedgerInject
import Sidecar

/// `agentledger inject [FILE]`: Kubernetes YAML with the AgentLedger sidecar added to every workload, for
/// `agentledger inject app.yaml | kubectl apply -f -` (docs/operations.md, "Kubernetes").
struct InjectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inject",
        abstract: "Add the AgentLedger sidecar to Kubernetes workloads (YAML in, YAML out).",
        discussion: """
            Reads YAML (one or many documents, List too) from FILE or standard input and writes it to standard output \
            with a native sidecar added to every Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob and \
            Pod, and the agent containers' OPENAI_BASE_URL (ANTHROPIC_BASE_URL for api.anthropic.com) pointed at it \
            unless they set it. Injecting twice changes nothing; --uninject takes out exactly what was added. \
            Input that cannot be read: one line on standard error, exit code 2, nothing on standard output.
            """
    )

    @Argument(help: "The manifest file; '-' or none reads standard input.")
    var file: String?

    @Flag(help: "Take the sidecar out again, restoring what inject changed. [no env variable; default off]")
    var uninject = false

    @Option(help: "The collector's ingest address, host:port. [no env variable; default \(InjectOptions().collector)]")
    var collector: String?

    @Option(help: "The image that runs the sidecar (deploy/Dockerfile). [no env variable; default agentledger:<this version>]")
    var image: String?

    @Option(help: "The Secret with the ingest token. [no env variable; default \(InjectOptions().tokenSecret)]")
    var tokenSecret: String?

    @Option(help: "The key of the ingest token in that Secret. [no env variable; default \(InjectOptions().tokenSecretKey)]")
    var tokenSecretKey: String?

    @Option(
        help: "The spool's bound in MiB (AGENTLEDGER_SPOOL_MAX_MB); its volume is a little larger. [no env variable; default 512]"
    )
    var spoolMb: Int?

    @Option(
        help: "Where the sidecar forwards calls (AGENTLEDGER_UPSTREAM_URL). [no env variable; default https://api.openai.com]")
    var upstreamUrl: String?

    @Option(help: "The sidecar's port in the pod. [no env variable; default 8000]")
    var port: Int?

    @Option(help: "open or closed (AGENTLEDGER_ON_COLLECTOR_DOWN). [no env variable; default open]")
    var onCollectorDown: String?

    func run() throws {
        var options = InjectOptions()
        options.image = "agentledger:\(CollectorLink.softwareVersion)"
        if let collector { options.collector = collector }
        if let image { options.image = image }
        if let tokenSecret { options.tokenSecret = tokenSecret }
        if let tokenSecretKey { options.tokenSecretKey = tokenSecretKey }
        if let spoolMb { options.spoolMB = spoolMb }
        if let upstreamUrl { options.upstreamURL = upstreamUrl }
        if let port { options.port = port }
        if let onCollectorDown { options.onCollectorDown = onCollectorDown }
        do {
            let input = try read()
            let output = try uninject ? ManifestInjector.uninject(input) : ManifestInjector.inject(input, options: options)
            FileHandleOutput.standardOutput(output)
        } catch {
            FileHandleOutput.standardError("agentledger inject: \(error)\n")
            throw ExitCode(2)
        }
    }

    /// The whole input as UTF-8 text, at most 64 MiB (a manifest set, not a data file).
    private func read() throws(InjectError) -> String {
        let limit = 64 << 20
        let data: Data?
        if file == nil || file == "-" {
            data = try? FileHandle.standardInput.read(upToCount: limit + 1) ?? Data()
        } else if let file {
            guard let handle = FileHandle(forReadingAtPath: file) else { throw InjectError("cannot read \(file)") }
            data = try? handle.read(upToCount: limit + 1) ?? Data()
        } else {
            data = nil
        }
        guard let data else { throw InjectError("cannot read \(file ?? "standard input")") }
        if data.count > limit { throw InjectError("the input is larger than 64 MiB") }
        guard let text = String(data: data, encoding: .utf8) else { throw InjectError("the input is not UTF-8 text") }
        return text
    }
}
