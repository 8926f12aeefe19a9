import LedgerProtocol
import Testing

/// Random messages of every type survive encode → decode unchanged, however the byte stream is cut.
@Suite struct RoundTripPropertyTests {
    @Test func everyRandomMessageRoundTrips() throws {
        var generator = MessageGenerator(seed: 0x5eed_0001)
        var seen: Set<MessageType> = []
        for index in 0..<3000 {
            let message = generator.message()
            seen.insert(message.type)
            let frame = message.encodedFrame()
            let decoded = try FrameDecoder.decodeSingle(frame)
            #expect(decoded == message, "case \(index)")
            #expect(decoded.encodedFrame() == frame, "case \(index) does not re-encode to the same bytes")
            if decoded != message { break }
        }
        #expect(seen == Set(MessageType.allCases))
    }

    @Test(arguments: 0..<40 as Range<UInt64>)
    func randomStreamsDecodeTheSameUnderRandomChunking(_ seed: UInt64) throws {
        var generator = MessageGenerator(seed: 0xc4a9_0000 + seed)
        let messages = (0..<25).map { _ in generator.message() }
        var stream = ByteWriter()
        for message in messages { message.encodeFrame(into: &stream) }

        var decoder = FrameDecoder()
        var decoded: [Message] = []
        var offset = 0
        while offset < stream.bytes.count {
            let size = generator.chance(30) ? 1 : Int.random(in: 1...2048, using: &generator.rng)
            let end = min(offset + size, stream.bytes.count)
            decoder.append(stream.bytes[offset..<end])
            offset = end
            while let message = try decoder.next() { decoded.append(message) }
        }
        try decoder.finish()
        #expect(decoded == messages, "seed \(seed)")
    }

    @Test func theGeneratorIsDeterministic() {
        var first = MessageGenerator(seed: 42)
        var second = MessageGenerator(seed: 42)
        for _ in 0..<50 { #expect(first.message() == second.message()) }
    }
}
