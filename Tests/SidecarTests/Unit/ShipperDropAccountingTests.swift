import Foundation
import LedgerProtocol
import Testing

@testable import Sidecar

/// Every captured call ends acknowledged or counted once, over a real spool: `dropped` when no collector can hold it,
/// `dropped_unconfirmed` when it was sent and its outcome is unknown. So `captured = acknowledged + dropped +
/// unconfirmed` once everything is delivered.
@Suite struct ShipperDropAccountingTests {
    func call(_ id: Int) -> CapturedCall {
        CapturedCall(
            actionID: "act-\(id)", arrivedAtMicros: 1_790_000_000_000_000, method: "POST", path: "/v1/chat/completions",
            source: "pod", requestBody: Array("{\"n\":\(id)}".utf8), completedMicros: 5)
    }

    func withShipper(maxBytes: Int = 3_000, _ body: (Shipper, String) throws -> Void) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("spool-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var configuration = Spool.Configuration(directory: directory, maxBytes: maxBytes)
        configuration.segmentBytes = 1_000
        try body(Shipper(spool: try Spool(configuration: configuration)), directory)
    }

    /// Sends and acknowledges everything the shipper has; returns the action ids in the order sent.
    func deliver(_ shipper: Shipper) throws -> [String] {
        var sent: [String] = []
        for _ in 0..<1_000 {
            guard case .send(let batch) = shipper.next() else { break }
            sent += try ids(batch)
            shipper.acknowledge(Ack(batchID: batch.batchID, stored: UInt32(batch.calls.count), duplicates: 0))
        }
        return sent
    }

    func ids(_ batch: ShipperState.Batch) throws -> [String] {
        try batch.calls.map { try CapturedCall.decodeFields($0[...]).actionID }
    }

    func counts(_ shipper: Shipper) -> (acknowledged: Int, dropped: Int, unconfirmed: Int) {
        (
            shipper.counters.value(.acknowledged), shipper.counters.value(.dropped),
            shipper.counters.value(.droppedUnconfirmed)
        )
    }

    @Test func callsSentWhenTheLinkDiedAndThenDroppedByTheBoundAreUnconfirmedNotDropped() throws {
        try withShipper { shipper, _ in
            shipper.linkEstablished()
            for id in 0..<4 { shipper.ship(call(id)) }
            guard case .send(let batch) = shipper.next() else {
                Issue.record("nothing sent")
                return
            }
            #expect(try ids(batch) == (0..<4).map { "act-\($0)" })
            // The collector may have committed the batch; the link dies before its ACK arrives.
            shipper.linkLost()
            for id in 4..<80 { shipper.ship(call(id)) }
            let (_, dropped, unconfirmed) = counts(shipper)
            #expect(unconfirmed == 4, "the sent calls' segment was dropped: outcome unknown")
            #expect(dropped > 0, "the calls never sent from the dropped segments")
            shipper.linkEstablished()
            let sent = try deliver(shipper)
            #expect(Set(sent).count == sent.count)
            #expect(sent.allSatisfy { !["act-0", "act-1", "act-2", "act-3"].contains($0) })
            #expect(counts(shipper) == (sent.count, dropped, 4))
            #expect(shipper.counters.value(.captured) == sent.count + dropped + unconfirmed)
            #expect(shipper.isIdle)
        }
    }

    @Test func callsInFlightWhenTheirSegmentIsDroppedCountOnlyAsAcknowledged() throws {
        try withShipper { shipper, _ in
            shipper.linkEstablished()
            for id in 0..<4 { shipper.ship(call(id)) }
            guard case .send(let batch) = shipper.next() else {
                Issue.record("nothing sent")
                return
            }
            // The link stays up; the bound drops the first segments while the batch waits for its ACK.
            for id in 4..<80 { shipper.ship(call(id)) }
            let dropped = shipper.counters.value(.dropped)
            #expect(dropped > 0)
            shipper.acknowledge(Ack(batchID: batch.batchID, stored: 4, duplicates: 0))
            let sent = try deliver(shipper)
            #expect(counts(shipper) == (4 + sent.count, dropped, 0), "acknowledged, so neither dropped nor unconfirmed")
            #expect(shipper.counters.value(.captured) == 4 + sent.count + dropped)
            #expect(shipper.isIdle)
        }
    }

    @Test func aSpoolRecordThatRotsIsCountedOnceAndDeliveryGoesOn() throws {
        try withShipper(maxBytes: 1 << 20) { shipper, directory in
            // The link is down: the calls wait in the spool.
            for id in 0..<5 { shipper.ship(call(id)) }
            let sizes = (0..<5).map { Spool.recordHeaderBytes + call($0).encodedFields().count }
            let segment = try #require(
                try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".spool") }.first)
            try SpoolCorruptionTests.flip(
                "\(directory)/\(segment)", at: Spool.magic.count + sizes[0] + sizes[1] + Spool.recordHeaderBytes + 12,
                mask: 0x08)
            shipper.linkEstablished()
            let sent = try deliver(shipper)
            #expect(sent == ["act-0", "act-1", "act-3", "act-4"])
            #expect(shipper.counters.value(.spoolCorruptRecords) == 1)
            #expect(counts(shipper) == (4, 1, 0), "the corrupt call is dropped: it was never sent")
            #expect(shipper.isIdle)
            #expect(shipper.spoolBytes == Spool.magic.count, "the spool emptied once the rest was acknowledged")
        }
    }
}
