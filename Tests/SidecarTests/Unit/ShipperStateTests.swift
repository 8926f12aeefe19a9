import LedgerProtocol
import Testing

@testable import Sidecar

@Suite struct ShipperStateTests {
    /// A record whose bytes spell its name, padded to `size`.
    func record(_ id: Int, size: Int = 10) -> [UInt8] {
        let name = Array("a\(id)".utf8)
        return name + [UInt8](repeating: 0x20, count: max(0, size - name.count))
    }

    func ids(_ step: ShipperState.NextStep) -> [String] {
        guard case .send(let batch) = step else { return [] }
        return batch.calls.map { String(decoding: $0.prefix { $0 != 0x20 }, as: UTF8.self) }
    }

    func batchID(_ step: ShipperState.NextStep) -> UInt64? {
        if case .send(let batch) = step { return batch.batchID }
        return nil
    }

    @Test func nothingLeavesBeforeTheLinkIsReady() {
        var state = ShipperState()
        state.enqueue(record(1), segment: 1, nowNanos: 0)
        #expect(state.next(nowNanos: 0) == .idle)
        state.linkEstablished()
        #expect(ids(state.next(nowNanos: 0)) == ["a1"])
    }

    @Test func batchesAreCutByCount() {
        var limits = ShipperState.Limits()
        limits.maxBatchCount = 3
        var state = ShipperState(limits: limits)
        state.linkEstablished()
        for id in 1...7 { state.enqueue(record(id), segment: 1, nowNanos: 0) }
        #expect(ids(state.next(nowNanos: 0)) == ["a1", "a2", "a3"])
        #expect(ids(state.next(nowNanos: 0)) == ["a4", "a5", "a6"])
        // One left and a batch in flight: it lingers for company until the linger ends.
        #expect(state.next(nowNanos: 0) == .wait(untilNanos: limits.lingerNanos))
        #expect(ids(state.next(nowNanos: limits.lingerNanos)) == ["a7"])
    }

    @Test func batchesAreCutByBytesButNeverEmpty() {
        var limits = ShipperState.Limits()
        limits.maxBatchBytes = 1_000
        var state = ShipperState(limits: limits)
        state.linkEstablished()
        state.enqueue(record(1, size: 5_000), segment: 1, nowNanos: 0)
        state.enqueue(record(2, size: 600), segment: 1, nowNanos: 0)
        state.enqueue(record(3, size: 600), segment: 1, nowNanos: 0)
        #expect(ids(state.next(nowNanos: 0)) == ["a1"])  // larger than a batch: goes alone
        #expect(ids(state.next(nowNanos: 0)) == ["a2"])  // a2 and a3 together exceed the byte bound
        #expect(ids(state.next(nowNanos: limits.lingerNanos)) == ["a3"])
    }

    @Test func theWindowBoundsUnacknowledgedBatches() {
        var limits = ShipperState.Limits()
        limits.maxBatchCount = 1
        limits.maxInFlight = 2
        var state = ShipperState(limits: limits)
        state.linkEstablished()
        for id in 1...3 { state.enqueue(record(id), segment: 7, nowNanos: 0) }
        let first = batchID(state.next(nowNanos: 0))
        _ = state.next(nowNanos: 0)
        #expect(state.next(nowNanos: 0) == .idle)
        let acknowledged = state.acknowledge(batchID: first!)
        #expect(acknowledged == [7: 1])
        #expect(ids(state.next(nowNanos: 0)) == ["a3"])
        let again = state.acknowledge(batchID: first!)
        #expect(again == nil, "a second ACK of the same batch is ignored")
    }

    @Test func acknowledgementsCountRecordsPerSegment() {
        var state = ShipperState()
        state.linkEstablished()
        state.enqueue(record(1), segment: 1, nowNanos: 0)
        state.enqueue(record(2), segment: 1, nowNanos: 0)
        state.enqueue(record(3), segment: 2, nowNanos: 0)
        let batch = batchID(state.next(nowNanos: 0))!
        #expect(state.acknowledge(batchID: batch) == [1: 2, 2: 1])
        #expect(state.acknowledgedCalls == 3)
    }

    @Test func aLostLinkResendsEverythingUnacknowledgedInOrder() {
        var limits = ShipperState.Limits()
        limits.maxBatchCount = 2
        var state = ShipperState(limits: limits)
        state.linkEstablished()
        for id in 1...5 { state.enqueue(record(id), segment: 1, nowNanos: 0) }
        let first = batchID(state.next(nowNanos: 0))!
        _ = state.next(nowNanos: 0)
        _ = state.acknowledge(batchID: first)
        #expect(state.linkLost().isEmpty, "nothing is given up: the batches go back to the queue")
        #expect(state.next(nowNanos: 0) == .idle)
        state.linkEstablished()
        #expect(ids(state.next(nowNanos: 10_000_000)) == ["a3", "a4"])
        #expect(ids(state.next(nowNanos: 10_000_000)) == ["a5"])
        #expect(state.acknowledgedCalls == 2)
    }

    @Test func aRejectedBatchGoesBackToTheFront() {
        var state = ShipperState()
        state.linkEstablished()
        state.enqueue(record(1), segment: 1, nowNanos: 0)
        let batch = batchID(state.next(nowNanos: 0))!
        state.enqueue(record(2), segment: 1, nowNanos: 0)
        #expect(state.reject(batchID: batch).isEmpty)
        #expect(ids(state.next(nowNanos: 0)) == ["a1", "a2"])
    }

    @Test func droppedSegmentsLeaveTheQueue() {
        var state = ShipperState()
        state.enqueue(record(1), segment: 1, nowNanos: 0)
        state.enqueue(record(2), segment: 2, nowNanos: 0)
        state.enqueue(record(3), segment: 1, nowNanos: 0)
        #expect(state.drop([Spool.Dropped(segment: 1, records: 2)]) == ShipperState.Losses(dropped: 2))
        #expect(state.queuedBytes == 10)
        state.linkEstablished()
        #expect(ids(state.next(nowNanos: 0)) == ["a2"])
    }

    // Drop accounting: a record given up is `dropped` when it was never sent (no collector can hold it) and
    // `unconfirmed` when it was sent without an ACK (the collector may hold it); acknowledged records never count.

    @Test func aBatchSentThenLostBeforeItsAckIsUnconfirmedWhenTheBoundDropsItsSegment() {
        var state = ShipperState()
        state.linkEstablished()
        state.enqueue(record(1), segment: 1, nowNanos: 0)
        state.enqueue(record(2), segment: 1, nowNanos: 0)
        state.enqueue(record(3), segment: 2, nowNanos: 0)
        #expect(ids(state.next(nowNanos: 0)) == ["a1", "a2", "a3"])
        // The collector may have committed the batch; its ACK is lost with the link.
        #expect(state.linkLost().isEmpty)
        // Segment 1 held 5 records not acknowledged: a1 and a2, sent, and 3 the spool never loaded.
        let losses = state.drop([Spool.Dropped(segment: 1, records: 5)])
        #expect(losses == ShipperState.Losses(dropped: 3, unconfirmed: 2))
        #expect(state.queuedBytes == 10)
        state.linkEstablished()
        #expect(ids(state.next(nowNanos: 0)) == ["a3"], "a dropped segment's records are not sent again")
    }

    @Test func neverSentRecordsOfADroppedSegmentAreDropped() {
        var state = ShipperState()
        state.enqueue(record(1), segment: 1, nowNanos: 0)  // the link is down: nothing is sent
        state.enqueue(record(2), segment: 1, nowNanos: 0)
        #expect(state.drop([Spool.Dropped(segment: 1, records: 4)]) == ShipperState.Losses(dropped: 4))
        #expect(state.isIdle)
        #expect(state.queuedBytes == 0)
    }

    @Test func aRejectedBatchStillCountsAsSentWhenItsSegmentIsDroppedLater() {
        var state = ShipperState()
        state.linkEstablished()
        state.enqueue(record(1), segment: 1, nowNanos: 0)
        let batch = batchID(state.next(nowNanos: 0))!
        #expect(state.reject(batchID: batch).isEmpty)
        // A commit reported failed may have gone through: the record is unconfirmed, not certainly lost.
        #expect(state.drop([Spool.Dropped(segment: 1, records: 1)]) == ShipperState.Losses(unconfirmed: 1))
    }

    @Test func anAcknowledgedRecordIsNeverCountedEvenWhenItsSegmentIsDroppedInFlight() {
        var state = ShipperState()
        state.linkEstablished()
        state.enqueue(record(1), segment: 1, nowNanos: 0)
        state.enqueue(record(2), segment: 1, nowNanos: 0)
        let batch = batchID(state.next(nowNanos: 0))!
        // In flight: its outcome is not known yet, so nothing of it counts; 1 record never loaded is dropped.
        #expect(state.drop([Spool.Dropped(segment: 1, records: 3)]) == ShipperState.Losses(dropped: 1))
        #expect(state.acknowledge(batchID: batch) == [:], "the dropped segment is not acknowledged in the spool")
        #expect(state.acknowledgedCalls == 2)
        #expect(state.linkLost().isEmpty, "nothing was left in flight")
        #expect(state.isIdle)
        #expect(state.queuedBytes == 0)
    }

    @Test func aDroppedSegmentsBatchInFlightIsUnconfirmedWhenItFails() {
        var limits = ShipperState.Limits()
        limits.maxBatchCount = 1
        var state = ShipperState(limits: limits)
        state.linkEstablished()
        state.enqueue(record(1), segment: 1, nowNanos: 0)
        state.enqueue(record(2), segment: 1, nowNanos: 0)
        state.enqueue(record(3), segment: 2, nowNanos: 0)
        let first = batchID(state.next(nowNanos: 0))!
        let second = batchID(state.next(nowNanos: 0))!
        #expect(state.drop([Spool.Dropped(segment: 1, records: 2)]).isEmpty, "both are in flight")
        #expect(state.reject(batchID: first) == ShipperState.Losses(unconfirmed: 1))
        _ = state.next(nowNanos: 0)  // a3
        #expect(state.linkLost() == ShipperState.Losses(unconfirmed: 1), "a2's batch is lost; a3's is queued again")
        state.linkEstablished()
        #expect(ids(state.next(nowNanos: 0)) == ["a3"])
        #expect(state.acknowledge(batchID: second) == nil, "the lost batch is gone")
        #expect(state.queuedBytes == 10)
    }

    @Test func memoryRoomFollowsTheBound() {
        var limits = ShipperState.Limits()
        limits.maxQueuedBytes = 25
        var state = ShipperState(limits: limits)
        state.enqueue(record(1), segment: 1, nowNanos: 0)
        state.enqueue(record(2), segment: 1, nowNanos: 0)
        #expect(state.hasRoom)
        state.enqueue(record(3), segment: 1, nowNanos: 0)
        #expect(!state.hasRoom)
    }

    @Test func idleOnlyWhenEverythingIsAcknowledged() {
        var state = ShipperState()
        #expect(state.isIdle)
        state.linkEstablished()
        state.enqueue(record(1), segment: 1, nowNanos: 0)
        #expect(!state.isIdle)
        let batch = batchID(state.next(nowNanos: 0))!
        #expect(!state.isIdle)
        _ = state.acknowledge(batchID: batch)
        #expect(state.isIdle)
        #expect(state.queuedBytes == 0)
    }
}
