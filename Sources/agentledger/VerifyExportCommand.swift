import ArgumentParser
import Collector
import Foundation

/// `agentledger verify-export FILE`: checks a saved audit export offline; exit 0 valid, 1 tampered, 2 unreadable.
struct VerifyExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify-export",
        abstract: "Check an audit export's integrity hash (and HMAC signature) offline.",
        discussion: "Exit status: 0 valid, 1 tampered (the failed check is named), 2 unreadable."
    )

    @Argument(help: "The export file, as saved from GET /export/{session_id}.")
    var file: String

    @Option(
        name: .customLong("hmac-key"),
        help:
            "Also check the HMAC-SHA256 signature with this key; prefer the variable, a flag shows in ps. [env: AGENTLEDGER_EXPORT_HMAC_KEY; default none]"
    )
    var hmacKey: String?

    func run() throws {
        KnownVariables.warnAboutUnknown()
        let key = Settings().string(hmacKey, "AGENTLEDGER_EXPORT_HMAC_KEY")
        let outcome: ExportVerifier.Outcome
        if let data = FileManager.default.contents(atPath: file) {
            outcome = ExportVerifier.verify(Array(data), hmacKey: key)
        } else {
            outcome = .unreadable("cannot read \(file)")
        }
        if case .valid = outcome {
            FileHandleOutput.standardOutput(outcome.message + "\n")
        } else {
            FileHandleOutput.standardError("agentledger verify-export: \(outcome.message)\n")
        }
        if outcome.exitCode != 0 { throw ExitCode(outcome.exitCode) }
    }
}
