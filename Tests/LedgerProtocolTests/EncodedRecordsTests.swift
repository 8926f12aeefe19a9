import Testing

@testable import LedgerProtocol

@Suite struct EncodedRecordsTests {
    @Test func preEncodedRecordsMakeTheSameFrame() throws {
        var generator = MessageGenerator(seed: 42)
        for round in 0..<50 {
            let calls = (0..<(round % 6)).map { _ in generator.capturedCall() }
            let batchID = UInt64(round) * 7_919
            let expected = Message.records(Records(batchID: batchID, calls: calls)).encodedFrame()
            let built = Records.encodedFrame(batchID: batchID, encodedCalls: calls.map { $0.encodedFields() })
            #expect(built == expected)
            #expect(try FrameDecoder.decodeSingle(built) == .records(Records(batchID: batchID, calls: calls)))
        }
    }
}
