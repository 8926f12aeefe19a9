import Testing

@testable import LedgerProtocol

/// A record whose times are out of range is set aside alone, and the rest of its RECORDS frame still decodes
/// (issue 14 item 1: one record arriving at the largest 64-bit time killed the collector).
@Suite struct RecordLimitsTests {
    static func call(_ id: String, arrivedAt: Int64 = 1_790_000_000_000_000, completed: Int64 = 2_000, firstByte: Int64? = 1_000)
        -> CapturedCall
    {
        CapturedCall(
            actionID: id, arrivedAtMicros: arrivedAt, method: "POST", path: "/v1/chat/completions", source: "pod",
            firstByteMicros: firstByte, completedMicros: completed)
    }

    static func decoded(_ calls: [CapturedCall]) throws -> Records {
        let frame = Message.records(Records(batchID: 7, calls: calls)).encodedFrame()
        guard case .records(let records) = try FrameDecoder.decodeSingle(frame) else {
            Issue.record("not a RECORDS frame")
            return Records(batchID: 0, calls: [])
        }
        return records
    }

    @Test(arguments: [
        call("bad", arrivedAt: .max), call("bad", arrivedAt: -1), call("bad", arrivedAt: .min),
        call("bad", arrivedAt: 7_258_118_400_000_000), call("bad", completed: .max), call("bad", completed: -1),
        call("bad", firstByte: .max), call("bad", firstByte: -5), call("bad", completed: 604_800_000_001),
    ])
    func aRecordWithATimeOutOfRangeIsRejectedAlone(bad: CapturedCall) throws {
        let records = try Self.decoded([Self.call("good-1"), bad, Self.call("good-2")])
        #expect(records.calls.map(\.actionID) == ["good-1", "good-2"])
        #expect(records.rejected.count == 1)
        #expect(records.rejected.first?.reason.contains("outside") == true)
        #expect(records.rejected.first?.bytes == bad.encodedFields())
    }

    @Test func timesAtTheEdgesAreAccepted() throws {
        let edges = [
            Self.call("a", arrivedAt: 0), Self.call("b", arrivedAt: 7_258_118_400_000_000 - 1),
            Self.call("c", completed: 604_800_000_000, firstByte: 0),
        ]
        let records = try Self.decoded(edges)
        #expect(records.calls == edges)
        #expect(records.rejected.isEmpty)
    }

    @Test func aRecordThatIsNotARecordIsRejectedAloneAndReencodesAsSent() throws {
        let garbage: [UInt8] = [0x01, 0x00, 0x00, 0x00, 0x02, 0xFF, 0xFE]
        let good = Self.call("good")
        let frame = Message.records(
            Records(batchID: 3, calls: [good], rejected: [RejectedRecord(bytes: garbage, reason: "test")])
        ).encodedFrame()
        guard case .records(let records) = try FrameDecoder.decodeSingle(frame) else {
            Issue.record("not a RECORDS frame")
            return
        }
        #expect(records.calls == [good])
        #expect(records.rejected.map(\.bytes) == [garbage])
        #expect(Message.records(records).encodedFrame() == frame)
    }
}
