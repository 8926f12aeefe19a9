import LedgerMetrics
import LedgerProtocol
import Logging
import Prometheus

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
    /// Files newly stored calls for OTLP export (`AGENTLEDGER_OTEL_ENDPOINT`), after the commit, never waiting.
    package var otlpExporter: OTLPExporter?
    /// Logs each model without a price once.
    let unpricedModels: UnpricedModels?
    /// Where commits run, when the store has threads of its own (`StorageThread`, `up`'s SQLite store): decoding,
    /// pricing and the statements then run below the proxy's priority while storage keeps up.
    package var storageThread: StorageThread?
    /// `agentledger_ingest_commit_seconds`, in the registry of `counters`.
    let commitSeconds: DurationHistogram

    /// Upper bounds of `agentledger_ingest_commit_seconds`' buckets: a local SQLite commit takes a millisecond or
    /// two, a Postgres one with fsync a few; seconds mean the store is in trouble.
    package static let commitBuckets: [Duration] = [
        .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500),
        .seconds(5), .seconds(10),
    ]

    package init(
        normalizer: Normalizer, store: any Store, counters: CollectorCounters, enforcer: Enforcer? = nil,
        alerting: Alerting? = nil, liveFeed: LiveFeed? = nil, unpricedModels: UnpricedModels? = nil
    ) {
        self.unpricedModels = unpricedModels
        self.normalizer = normalizer
        self.store = store
        self.counters = counters
        self.enforcer = enforcer
        self.alerting = alerting
        self.liveFeed = liveFeed
        commitSeconds = counters.registry.makeDurationHistogram(
            descriptor: .init(
                "agentledger_ingest_commit_seconds",
                help: "Time to commit one batch of calls (a RECORDS frame or an OTLP request): the store's transaction "
                    + "and the in-memory hand-offs after it, failures included."),
            buckets: Self.commitBuckets)
    }

    /// Commits a batch; returns only once it is durable in the store. `source` is the identity the link proved in its
    /// HELLO and replaces each call's own. Records that cannot be calls (`rejected`, or refused by the store one by
    /// one) are quarantined instead, so they never hold back the records beside them.
    package func commit(
        _ calls: [CapturedCall], rejected: [RejectedRecord] = [], source: String? = nil
    ) async throws -> InsertResult {
        guard let storageThread else { return try await commitHere(calls, rejected: rejected, source: source) }
        // How far behind storage is: since the oldest of these calls ended. Saturating: a peer's times are not trusted,
        // and at worst they choose the thread.
        if let oldest = calls.lazy.map({ Self.saturating($0.arrivedAtMicros, plus: $0.completedMicros) }).min() {
            let lag = Self.saturating(WallClock.nowMicros(), plus: oldest == .min ? .max : -oldest)
            if storageThread.note(lagMicros: lag) { counters.add(.storeCatchUps) }
        }
        return try await withTaskExecutorPreference(storageThread) {
            try await commitHere(calls, rejected: rejected, source: source)
        }
    }

    private static func saturating(_ a: Int64, plus b: Int64) -> Int64 {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? (b > 0 ? .max : .min) : sum
    }

    private func commitHere(
        _ calls: [CapturedCall], rejected: [RejectedRecord], source: String?
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
        let started = ContinuousClock.now
        defer { commitSeconds.record(ContinuousClock.now - started) }
        do {
            result = try await store.insert(records)
        } catch {
            // The store is busy or down: the sidecar keeps the batch and sends it again.
            if StoreError.isTransient(error) { throw error }
            try await store.checkReady()
            var stored: [CallRecord] = []
            result = InsertResult(newActionIDs: [], duplicates: 0)
            for (index, record) in records.enumerated() {
                do {
                    let one = try await store.insert([record])
                    result.newActionIDs.formUnion(one.newActionIDs)
                    result.duplicates += one.duplicates
                    stored.append(record)
                } catch {
                    if StoreError.isTransient(error) { throw error }
                    try await store.checkReady()
                    quarantine.append(QuarantinedRecord(calls[index], source: source, reason: "\(error)", now: now))
                }
            }
            records = stored
        }
        try await store.quarantine(quarantine)
        result.quarantined = quarantine.count
        enforcer?.settle(records, newActionIDs: result.newActionIDs)
        if alerting != nil || liveFeed != nil || otlpExporter != nil {
            let new = result.stored == records.count ? records : records.filter { result.newActionIDs.contains($0.actionID) }
            // Among several collectors, the enforcer alerts for every call (others' arrive through `ReplicaFeed`).
            if enforcer?.leadership.isEnforcer ?? true { alerting?.observe(new) }
            liveFeed?.publish(new)
            otlpExporter?.enqueue(new)
        }
        counters.add(.recordsStored, result.stored)
        counters.add(.recordsDuplicate, result.duplicates)
        counters.add(.recordsQuarantined, quarantine.count)
        counters.add(.usageRejected, tally.rejectedUsageCounts)
        counters.add(.batchesCommitted)
        let unpriced = records.count(where: \.isUnpriced)
        if unpriced > 0 {
            counters.add(.unpricedCalls, unpriced)
            unpricedModels?.warn(about: records)
        }
        return result
    }
}
