import LedgerProtocol
import Logging
import ServiceLifecycle

/// Runs `Store.maintain` at start and then every `interval`: the Postgres day partitions, and retention when
/// `AGENTLEDGER_RETENTION_DAYS` is set. A failed round is logged and counted; the next one does its work.
package struct StoreMaintenance: Service {
    package var store: any Store
    package var retention: Retention?
    package var interval: Duration
    package var counters: CollectorCounters
    package var logger: Logger

    package init(
        store: any Store, retention: Retention?, interval: Duration, counters: CollectorCounters, logger: Logger
    ) {
        self.store = store
        self.retention = retention
        self.interval = interval
        self.counters = counters
        self.logger = logger
    }

    package func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while true {
                await self.round()
                try await Task.sleep(for: self.interval)
            }
        }
    }

    /// One round; what it did is counted and, when it deleted anything, logged.
    package func round() async {
        do {
            let result = try await store.maintain(nowMicros: WallClock.nowMicros(), retention: retention)
            counters.add(.retentionCallsDeleted, result.callsDeleted)
            counters.add(.retentionSessionsDeleted, result.sessionsDeleted)
            counters.add(.retentionMessagesDeleted, result.messagesDeleted)
            counters.add(.retentionQuarantinedDeleted, result.quarantinedDeleted)
            counters.add(.partitionsCreated, result.partitionsCreated)
            counters.add(.partitionsDropped, result.partitionsDropped)
            if result != MaintenanceResult() {
                logger.info(
                    "store upkeep",
                    metadata: [
                        "calls_deleted": "\(result.callsDeleted)", "sessions_deleted": "\(result.sessionsDeleted)",
                        "messages_deleted": "\(result.messagesDeleted)",
                        "quarantined_deleted": "\(result.quarantinedDeleted)",
                        "partitions_created": "\(result.partitionsCreated)",
                        "partitions_dropped": "\(result.partitionsDropped)",
                    ])
            }
        } catch {
            counters.add(.maintenanceFailures)
            logger.warning("store upkeep failed; trying again next round", metadata: ["error": "\(error)"])
        }
    }
}
