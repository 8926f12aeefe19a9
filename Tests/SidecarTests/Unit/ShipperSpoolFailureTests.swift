import Foundation
import LedgerProtocol
import Testing

@testable import Sidecar

/// The shipper over a spool whose disk fills and frees (issue 14 item 4): every call is delivered or counted.
@Suite struct ShipperSpoolFailureTests {
    func call(_ id: Int) -> CapturedCall {
        CapturedCall(
            actionID: "act-\(id)", arrivedAtMicros: 1_790_000_000_000_000, method: "POST", path: "/v1/chat/completions",
            source: "pod", requestBody: Array("{\"n\":\(id)}".utf8), completedMicros: 5)
    }

    /// Sends and acknowledges everything the shipper has; returns the action ids in the order sent.
    func deliver(_ shipper: Shipper) throws -> [String] {
        var sent: [String] = []
        for _ in 0..<1_000 {
            guard case .send(let batch) = shipper.next() else { break }
            sent += try batch.calls.map { try CapturedCall.decodeFields($0[...]).actionID }
            shipper.acknowledge(Ack(batchID: batch.batchID, stored: UInt32(batch.calls.count), duplicates: 0))
        }
        return sent
    }

    @Test func callsCapturedWhileTheDiskIsFullAreKeptInMemoryOrCountedAndDeliveryResumes() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("spool-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let disk = SpoolFailureTests.FailingDisk()
        var configuration = Spool.Configuration(directory: directory)
        configuration.systemCalls = disk.calls
        var limits = ShipperState.Limits()
        limits.maxQueuedBytes = 400  // room in memory for a few calls only
        let shipper = Shipper(limits: limits, spool: try Spool(configuration: configuration))
        // The link is down: calls wait in the spool.
        for id in 0..<5 { shipper.ship(call(id)) }
        disk.fill(after: 30)
        for id in 5..<25 { shipper.ship(call(id)) }
        let failed = shipper.counters.value(.spoolErrors)
        let dropped = shipper.counters.value(.dropped)
        #expect(failed == 20, "every failed append is counted")
        #expect(dropped > 0 && dropped < 20, "memory took some, the rest were counted as lost")
        disk.free()
        for id in 25..<30 { shipper.ship(call(id)) }
        #expect(shipper.counters.value(.spoolErrors) == failed)
        shipper.linkEstablished()
        let sent = try deliver(shipper)
        #expect(Set(sent).count == sent.count, "no call sent twice")
        #expect(sent.count == 30 - dropped, "every call not counted as dropped is delivered")
        for id in Array(0..<5) + Array(25..<30) { #expect(sent.contains("act-\(id)"), "act-\(id) was spooled") }
        #expect(shipper.counters.value(.captured) == 30)
        #expect(shipper.isIdle)
        #expect(shipper.spoolBytes == Spool.magic.count, "the spool emptied once everything was acknowledged")
    }
}
