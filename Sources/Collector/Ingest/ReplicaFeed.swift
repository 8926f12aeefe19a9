import Logging
import ServiceLifecycle

/// The calls other collectors on the same Postgres store, brought to this one (docs/operations.md, "Several
/// collectors"): their spend reaches this collector's budgets (and releases the reservations this collector made for
/// them, when a sidecar admitted a call here and shipped it there), and they appear in this collector's live feed, so
/// a dashboard open on any replica shows every call. The enforcer raises the alerts of every call, wherever it was
/// stored; OTLP spans stay with the replica that stored a call.
///
/// Listens with `LISTEN agentledger_calls` on a connection of its own, reconnecting after a second when it breaks;
/// calls stored while it was not listening reach neither the live view nor the budgets (a restart reads the day's
/// spend from the store again).
package struct ReplicaFeed: Service {
    let store: PostgresStore
    /// This collector's own announcements are skipped: its pipeline already handled those calls.
    let replicaID: String
    let enforcer: Enforcer?
    let liveFeed: LiveFeed?
    let alerting: Alerting?
    /// Reloads the limits set at run time when another collector changed them.
    let policyEditor: PolicyEditor?
    let counters: CollectorCounters
    let logger: Logger
    /// Action ids read per query at most.
    static let readBatch = 1_000

    package init(
        store: PostgresStore, replicaID: String, enforcer: Enforcer?, liveFeed: LiveFeed?, alerting: Alerting? = nil,
        policyEditor: PolicyEditor? = nil, counters: CollectorCounters, logger: Logger
    ) {
        self.alerting = alerting
        self.policyEditor = policyEditor
        self.store = store
        self.replicaID = replicaID
        self.enforcer = enforcer
        self.liveFeed = liveFeed
        self.counters = counters
        self.logger = logger
    }

    package func run() async throws {
        await cancelWhenGracefulShutdown {
            var failures = 0
            while !Task.isCancelled {
                do {
                    try await store.listenForStoredCalls(
                        skipping: replicaID, policyChanged: { await reloadPolicy() }, { calls in await handle(calls) })
                } catch {
                    failures += 1
                    if failures == 1 || failures % 60 == 0 {
                        logger.warning(
                            "not listening for other collectors' calls; retrying every second",
                            metadata: ["error": "\(error)", "attempts": "\(failures)"])
                    }
                }
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    private func reloadPolicy() async {
        guard let policyEditor else { return }
        do {
            try await policyEditor.reload()
        } catch {
            logger.warning(
                "could not read the limits another collector changed; they apply here at the next start",
                metadata: ["error": "\(error)"])
        }
    }

    private func handle(_ calls: PostgresStore.StoredCalls) async {
        var start = calls.actionIDs.startIndex
        while start < calls.actionIDs.endIndex {
            let end =
                calls.actionIDs.index(start, offsetBy: Self.readBatch, limitedBy: calls.actionIDs.endIndex)
                ?? calls.actionIDs.endIndex
            let ids = Array(calls.actionIDs[start..<end])
            start = end
            do {
                let records = try await store.calls(actionIDs: ids)
                enforcer?.settle(records, newActionIDs: Set(records.map(\.actionID)))
                if enforcer?.leadership.isEnforcer ?? false { alerting?.observe(records) }
                liveFeed?.publish(records)
                counters.add(.replicaRecordsSeen, records.count)
            } catch {
                logger.warning(
                    "could not read calls another collector stored", metadata: ["error": "\(error)", "calls": "\(ids.count)"])
            }
        }
    }
}
