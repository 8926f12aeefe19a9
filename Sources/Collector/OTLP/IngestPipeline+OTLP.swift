import Foundation
import LedgerProtocol

extension IngestPipeline {
    /// Commits records made from OTLP spans (`OTLPSpanReader`) the way `commit(_:)` commits a sidecar's calls: one
    /// transaction, idempotent on the action id, reservations settled, alerts and the live feed told. A record the
    /// store refuses alone is quarantined as its record's JSON, so the rest are stored. Returns once durable.
    package func commit(spanRecords records: [CallRecord], rejectedUsageCounts: Int = 0) async throws -> InsertResult {
        counters.add(.recordsReceived, records.count)
        let now = WallClock.nowMicros()
        var records = records
        var quarantine: [QuarantinedRecord] = []
        var result: InsertResult
        let started = ContinuousClock.now
        defer { commitSeconds.record(ContinuousClock.now - started) }
        do {
            result = try await store.insert(records)
        } catch {
            try await store.checkReady()  // the store is down: the exporter gets 503 and sends the spans again
            var stored: [CallRecord] = []
            result = InsertResult(newActionIDs: [], duplicates: 0)
            for record in records {
                do {
                    let one = try await store.insert([record])
                    result.newActionIDs.formUnion(one.newActionIDs)
                    result.duplicates += one.duplicates
                    stored.append(record)
                } catch {
                    try await store.checkReady()
                    var json: [UInt8] = []
                    record.appendJSON(to: &json)
                    quarantine.append(
                        QuarantinedRecord(
                            receivedAtMicros: now, source: OTLPSpanReader.source, actionID: record.actionID,
                            reason: "not stored: \(error)", record: json))
                }
            }
            records = stored
        }
        try await store.quarantine(quarantine)
        result.quarantined = quarantine.count
        enforcer?.settle(records, newActionIDs: result.newActionIDs)
        let new = result.stored == records.count ? records : records.filter { result.newActionIDs.contains($0.actionID) }
        alerting?.observe(new)
        liveFeed?.publish(new)
        otlpExporter?.enqueue(new)
        counters.add(.recordsStored, result.stored)
        counters.add(.recordsDuplicate, result.duplicates)
        counters.add(.recordsQuarantined, quarantine.count)
        counters.add(.usageRejected, rejectedUsageCounts)
        counters.add(.batchesCommitted)
        let unpriced = records.filter { $0.costUSD == nil && $0.modelID != nil && $0.tokensIn != nil }.count
        if unpriced > 0 { counters.add(.unpricedCalls, unpriced) }
        return result
    }
}
