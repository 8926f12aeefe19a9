import Foundation
import LedgerProtocol
import Testing

@testable import Sidecar

/// Batches within the largest frame the collector announced in WELCOME, and a record too large for it cut rather
/// than resent forever (issue 14 item 6).
@Suite struct ShipperFrameLimitTests {
    func call(_ id: Int, request: Int = 100, response: Int = 100) -> CapturedCall {
        CapturedCall(
            actionID: "act-\(id)", arrivedAtMicros: 1_790_000_000_000_000, method: "POST", path: "/v1/chat/completions",
            source: "pod", requestBody: [UInt8](repeating: UInt8(ascii: "q"), count: request), statusCode: 200,
            responseBody: [UInt8](repeating: UInt8(ascii: "a"), count: response), completedMicros: 5)
    }

    func frames(_ state: inout ShipperState, maxFrameBytes: Int) throws -> [[CapturedCall]] {
        var frames: [[CapturedCall]] = []
        for _ in 0..<100 {
            guard case .send(let batch) = state.next(nowNanos: .max / 2) else { break }
            let frame = Records.encodedFrame(batchID: batch.batchID, encodedCalls: batch.calls)
            #expect(frame.count - 4 <= maxFrameBytes, "a frame within the link's limit")
            guard case .records(let records) = try FrameDecoder.decodeSingle(frame, maxFrameBytes: maxFrameBytes) else {
                Issue.record("not RECORDS")
                break
            }
            frames.append(records.calls)
            _ = state.acknowledge(batchID: batch.batchID)
        }
        return frames
    }

    @Test func batchesStayWithinTheFrameTheCollectorAnnounced() throws {
        let maxFrame = 2_000
        var state = ShipperState()
        state.linkEstablished(maxFrameBytes: maxFrame)
        for id in 0..<20 { state.enqueue(call(id).encodedFields(), segment: 1, nowNanos: 0) }
        let frames = try frames(&state, maxFrameBytes: maxFrame)
        #expect(frames.count > 1)
        #expect(frames.joined().map(\.actionID) == (0..<20).map { "act-\($0)" })
        #expect(state.cutRecords == 0)
        #expect(state.isIdle)
    }

    @Test func aRecordTooLargeForTheLinkIsCutAndTheOnesBehindItStillGo() throws {
        let maxFrame = 4_000
        var state = ShipperState()
        state.linkEstablished(maxFrameBytes: maxFrame)
        state.enqueue(call(0).encodedFields(), segment: 1, nowNanos: 0)
        state.enqueue(call(1, request: 50_000, response: 300).encodedFields(), segment: 1, nowNanos: 0)
        state.enqueue(call(2).encodedFields(), segment: 2, nowNanos: 0)
        let sent = try frames(&state, maxFrameBytes: maxFrame).joined()
        #expect(sent.map(\.actionID) == ["act-0", "act-1", "act-2"])
        let cut = try #require(sent.first { $0.actionID == "act-1" })
        #expect(cut.requestBodyTruncated && !cut.responseBodyTruncated)
        #expect(cut.responseBody.count == 300)
        #expect(state.cutRecords == 1)
        #expect(state.queuedBytes == 0, "the byte count follows the cut record")
        #expect(state.isIdle)
    }

    @Test func aRecordThatCannotFitAtAllIsGivenUpAndReportedBySegment() throws {
        var state = ShipperState()
        state.linkEstablished(maxFrameBytes: 150)
        var huge = call(1)
        huge.requestHeaders = (0..<50).map { HeaderField("x-header-\($0)", "value") }
        state.enqueue(huge.encodedFields(), segment: 3, nowNanos: 0)
        state.enqueue(call(2, request: 1, response: 1).encodedFields(), segment: 4, nowNanos: 0)
        let sent = try frames(&state, maxFrameBytes: 150).joined()
        #expect(sent.map(\.actionID) == ["act-2"])
        let unsendable = state.takeUnsendable()
        #expect(unsendable.perSegment == [3: 1])
        #expect(unsendable.losses == ShipperState.Losses(dropped: 1), "never sent")
        #expect(state.takeUnsendable().perSegment.isEmpty, "taken once")
        #expect(state.queuedBytes == 0)
    }

    @Test func aRecordSentWholeBeforeItCouldNoLongerFitIsUnconfirmedNotDropped() throws {
        var state = ShipperState()
        state.linkEstablished()
        var huge = call(1)
        huge.requestHeaders = (0..<50).map { HeaderField("x-header-\($0)", "value") }
        state.enqueue(huge.encodedFields(), segment: 3, nowNanos: 0)
        guard case .send = state.next(nowNanos: 0) else {
            Issue.record("not sent on the first link")
            return
        }
        #expect(state.linkLost().isEmpty)
        // The next collector takes smaller frames: the record cannot go again, but the first may have stored it.
        state.linkEstablished(maxFrameBytes: 150)
        #expect(state.next(nowNanos: 0) == .idle)
        let unsendable = state.takeUnsendable()
        #expect(unsendable.perSegment == [3: 1])
        #expect(unsendable.losses == ShipperState.Losses(unconfirmed: 1))
    }

    @Test func theShipperCutsACallLargerThanAFrameBeforeSpoolingIt() throws {
        let shipper = Shipper()
        shipper.linkEstablished()
        let body = Shipper.maxRecordBytes + 1_000
        shipper.ship(call(1, request: body, response: 2_000))
        guard case .send(let batch) = shipper.next() else {
            Issue.record("nothing to send")
            return
        }
        let frame = Records.encodedFrame(batchID: batch.batchID, encodedCalls: batch.calls)
        #expect(frame.count - 4 <= WireFormat.defaultMaxFrameBytes)
        let sent = try CapturedCall.decodeFields(batch.calls[0][...])
        #expect(sent.requestBodyTruncated && !sent.responseBodyTruncated)
        #expect(sent.responseBody.count == 2_000)
        #expect(shipper.counters.value(.recordsCut) == 1)
        #expect(shipper.counters.value(.captured) == 1)
        #expect(shipper.counters.value(.dropped) == 0)
    }
}
