import Logging
import Synchronization

/// Says once per model, in the log, that calls to it have no known price: their records carry no `cost_usd`, totals
/// count them in `unpriced_calls`, and budgets treat them by `AGENTLEDGER_UNPRICED_MODELS`. Bounded: after
/// `maximumModels` distinct names it stops naming new ones (the `agentledger_unpriced_calls_total` counter goes on).
package final class UnpricedModels: Sendable {
    package static let maximumModels = 1024
    private let seen = Mutex<Set<String>>([])
    private let logger: Logger

    package init(logger: Logger) {
        self.logger = logger
    }

    /// Whether `model` is being seen for the first time (and is remembered now).
    package func isFirstSighting(_ model: String) -> Bool {
        seen.withLock { seen in
            guard seen.count < Self.maximumModels else { return false }
            return seen.insert(model).inserted
        }
    }

    /// Logs each model of `records` that has token counts but no price, the first time it shows up.
    package func warn(about records: [CallRecord]) {
        for record in records where record.isUnpriced {
            guard let model = record.modelID, isFirstSighting(model) else { continue }
            logger.warning(
                "model has no known price: its calls are stored without a cost and counted as unpriced",
                metadata: [
                    "model": "\(model)",
                    "fix": "add it to AGENTLEDGER_PRICING_FILE (docs/operations.md, \"Pricing\")",
                ])
        }
    }
}
