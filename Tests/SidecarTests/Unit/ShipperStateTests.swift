import LedgerProtocol
import Testing

@testable import Sidecar

@Suite struct ShipperStateTests {
    func call(_ id: Int, bodyBytes: Int = 10) -> CapturedCall {
        CapturedCall(
            actionID: "a\(id)", arrivedAtMicros: Int64(id), method: "POST", path: "/v1/chat/completions", source: "s",
            requestBody: Array(repeating: 0x41, count: bodyBytes))
    }

    func ids(_ step: ShipperState.NextStep) -> [String] {
        if case .send(let records) = step { return records.calls.map(\.actionID) }
        return []
    }

    @Test func nothingLeavesBeforeTheLinkIsReady() {
        var state = ShipperState()
        state.enqueue(call(1), nowNanos: 0)
        #expect(state.next(nowNanos: 0) == .idle)
        state.linkEstablished()
        #expect(ids(state.next(nowNanos: 0)) == ["a1"])
    }

    @Test func batchesAreCutByCount() {
        var limits = ShipperState.Limits()
        limits.maxBatchCount = 3
        var state = ShipperState(limits: limits)
        state.linkEstablished()
        for id in 1...7 { state.enqueue(call(id), nowNanos: 0) }
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
        state.enqueue(call(1, bodyBytes: 5_000), nowNanos: 0)
        state.enqueue(call(2, bodyBytes: 400), nowNanos: 0)
        state.enqueue(call(3, bodyBytes: 400), nowNanos: 0)
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
        for id in 1...3 { state.enqueue(call(id), nowNanos: 0) }
        guard case .send(let first) = state.next(nowNanos: 0) else { Issue.record("expected a batch"); return }
        _ = state.next(nowNanos: 0)
        #expect(state.next(nowNanos: 0) == .idle)
        let acknowledged = state.acknowledge(batchID: first.batchID)
        #expect(acknowledged)
        #expect(ids(state.next(nowNanos: 0)) == ["a3"])
        let again = state.acknowledge(batchID: first.batchID)
        #expect(!again, "a second ACK of the same batch is ignored")
    }

    @Test func aLostLinkResendsEverythingUnacknowledgedInOrder() {
        var limits = ShipperState.Limits()
        limits.maxBatchCount = 2
        var state = ShipperState(limits: limits)
        state.linkEstablished()
        for id in 1...5 { state.enqueue(call(id), nowNanos: 0) }
        guard case .send(let first) = state.next(nowNanos: 0) else { Issue.record("expected a batch"); return }
        _ = state.next(nowNanos: 0)
        state.acknowledge(batchID: first.batchID)
        state.linkLost()
        #expect(state.next(nowNanos: 0) == .idle)
        state.linkEstablished()
        #expect(ids(state.next(nowNanos: 10_000_000)) == ["a3", "a4"])
        #expect(ids(state.next(nowNanos: 10_000_000)) == ["a5"])
        #expect(state.acknowledgedCalls == 2)
    }

    @Test func aRejectedBatchGoesBackToTheFront() {
        var state = ShipperState()
        state.linkEstablished()
        state.enqueue(call(1), nowNanos: 0)
        guard case .send(let batch) = state.next(nowNanos: 0) else { Issue.record("expected a batch"); return }
        state.enqueue(call(2), nowNanos: 0)
        state.reject(batchID: batch.batchID)
        #expect(ids(state.next(nowNanos: 0)) == ["a1", "a2"])
    }

    @Test func aFullQueueDropsTheOldestAndCountsThem() {
        var limits = ShipperState.Limits()
        limits.maxQueuedBytes = 3 * ShipperState.estimatedSize(of: call(1))
        var state = ShipperState(limits: limits)
        var dropped = 0
        for id in 1...5 { dropped += state.enqueue(call(id), nowNanos: 0) }
        #expect(dropped == 2)
        #expect(state.droppedCalls == 2)
        state.linkEstablished()
        #expect(ids(state.next(nowNanos: 0)) == ["a3", "a4", "a5"])
    }

    @Test func idleOnlyWhenEverythingIsAcknowledged() {
        var state = ShipperState()
        #expect(state.isIdle)
        state.linkEstablished()
        state.enqueue(call(1), nowNanos: 0)
        #expect(!state.isIdle)
        guard case .send(let batch) = state.next(nowNanos: 0) else { Issue.record("expected a batch"); return }
        #expect(!state.isIdle)
        state.acknowledge(batchID: batch.batchID)
        #expect(state.isIdle)
        #expect(state.queuedBytes == 0)
    }
}
