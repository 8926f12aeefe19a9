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

    /// Commits a batch; returns only once it is durable in the store.
    package func commit(_ calls: [CapturedCall]) async throws -> InsertResult {
        counters.add(.recordsReceived, calls.count)
        let records = normalizer.records(from: calls.lazy.map(ContentDecoding.decoded))
        let result = try await store.insert(records)
        enforcer?.settle(records, newActionIDs: result.newActionIDs)
        if alerting != nil || liveFeed != nil {
            let new = result.stored == records.count ? records : records.filter { result.newActionIDs.contains($0.actionID) }
            alerting?.observe(new)
            liveFeed?.publish(new)
        }
        counters.add(.recordsStored, result.stored)
        counters.add(.recordsDuplicate, result.duplicates)
        counters.add(.batchesCommitted)
        let unpriced = records.filter { $0.costUSD == nil && $0.modelID != nil && $0.tokensIn != nil }.count
        if unpriced > 0 { counters.add(.unpricedCalls, unpriced) }
        return result
    }
}
