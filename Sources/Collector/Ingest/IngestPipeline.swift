import LedgerProtocol
import Logging

/// From captured calls to stored records: decode, normalize, price, commit as one batch.
package struct IngestPipeline: Sendable {
    let normalizer: Normalizer
    let store: any Store
    let counters: CollectorCounters
    /// Settles the reservations of stored calls and counts their spend.
    let enforcer: Enforcer?
    /// Raises alerts on newly stored calls, off the commit path.
    let alerting: Alerting?
    /// Tells dashboards about newly stored calls (`/ws`).
    let liveFeed: LiveFeed?

    package init(
        normalizer: Normalizer, store: any Store, counters: CollectorCounters, enforcer: Enforcer? = nil,
        alerting: Alerting? = nil, liveFeed: LiveFeed? = nil
    ) {
        self.normalizer = normalizer
        self.store = store
        self.counters = counters
        self.enforcer = enforcer
        self.alerting = alerting
        self.liveFeed = liveFeed
    }

    /// Commits a batch; returns only once it is durable in the store. `source` is the identity the link proved in its
    /// HELLO and replaces each call's own. Records that cannot be calls (`rejected`, or refused by the store one by
    /// one) are quarantined instead, so they never hold back the records beside them.
    package func commit(
        _ calls: [CapturedCall], rejected: [RejectedRecord] = [], source: String? = nil
    ) async throws -> InsertResult {
        counters.add(.recordsReceived, calls.count + rejected.count)
        let now = WallClock.nowMicros()
        var calls = calls
        if let source {
            for index in calls.indices { calls[index].source = source }
        }
        var tally = Normalizer.Tally()
        var records = normalizer.records(from: calls.lazy.map(ContentDecoding.decoded), tally: &tally)
        var quarantine = rejected.map { QuarantinedRecord($0, source: source, now: now) }
        var result: InsertResult
        do {
            result = try await store.insert(records)
        } catch {
            try await store.checkReady()  // the store is down: the sidecar keeps the batch and sends it again
            var stored: [CallRecord] = []
            result = InsertResult(newActionIDs: [], duplicates: 0)
            for (index, record) in records.enumerated() {
                do {
                    let one = try await store.insert([record])
                    result.newActionIDs.formUnion(one.newActionIDs)
                    result.duplicates += one.duplicates
                    stored.append(record)
                } catch {
                    try await store.checkReady()
                    quarantine.append(QuarantinedRecord(calls[index], source: source, reason: "\(error)", now: now))
                }
            }
            records = stored
        }
        try await store.quarantine(quarantine)
        result.quarantined = quarantine.count
        enforcer?.settle(records, newActionIDs: result.newActionIDs)
        if alerting != nil || liveFeed != nil {
            let new = result.stored == records.count ? records : records.filter { result.newActionIDs.contains($0.actionID) }
            alerting?.observe(new)
            liveFeed?.publish(new)
        }
        counters.add(.recordsStored, result.stored)
        counters.add(.recordsDuplicate, result.duplicates)
        counters.add(.recordsQuarantined, quarantine.count)
        counters.add(.usageRejected, tally.rejectedUsageCounts)
        counters.add(.batchesCommitted)
        let unpriced = records.filter { $0.costUSD == nil && $0.modelID != nil && $0.tokensIn != nil }.count
        if unpriced > 0 { counters.add(.unpricedCalls, unpriced) }
        return result
    }
}
