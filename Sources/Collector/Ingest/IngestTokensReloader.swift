import Dispatch
import Foundation
import Logging
import ServiceLifecycle

/// Reads `AGENTLEDGER_INGEST_TOKENS_FILE` again on SIGHUP, so tokens can be added or revoked without a restart.
/// A file that no longer parses is logged and the tokens in force stay. Links already open keep their identity.
package struct IngestTokensReloader: Service {
    let tokens: IngestTokens
    let logger: Logger

    package init(tokens: IngestTokens, logger: Logger) {
        self.tokens = tokens
        self.logger = logger
    }

    package func run() async throws {
        signal(SIGHUP, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
        source.setEventHandler { [tokens, logger] in
            do {
                try tokens.reload()
                logger.info("ingest tokens reloaded", metadata: ["sources": "\(tokens.count)"])
            } catch {
                logger.error(
                    "AGENTLEDGER_INGEST_TOKENS_FILE not reloaded; the previous tokens stay in force",
                    metadata: ["error": "\(error)"])
            }
        }
        source.resume()
        defer { source.cancel() }
        try? await gracefulShutdown()
    }
}
