import LedgerProtocol
import Testing

/// Framing: how the decoder cuts a byte stream into frames, and every way it refuses one.
@Suite struct FrameDecoderTests {
    static let stream = GoldenVector.allCases.flatMap(\.bytes)
    static let messages = GoldenVector.allCases.map(\.message)

    @Test func severalFramesInOneAppendAllDecodeInOrder() throws {
        var decoder = FrameDecoder()
        decoder.append(Self.stream)
        var decoded: [Message] = []
        while let message = try decoder.next() { decoded.append(message) }
        #expect(decoded == Self.messages)
        #expect(decoder.bufferedBytes == 0)
        try decoder.finish()
    }

    @Test func byteByByteFeedingYieldsEachMessageExactlyWhenItsLastByteArrives() throws {
        var decoder = FrameDecoder()
        var decoded: [Message] = []
        var frameEnds: Set<Int> = []
        var offset = 0
        for vector in GoldenVector.allCases {
            offset += vector.bytes.count
            frameEnds.insert(offset)
        }
        for (index, byte) in Self.stream.enumerated() {
            decoder.append(CollectionOfOne(byte))
            let message = try decoder.next()
            #expect((message != nil) == frameEnds.contains(index + 1), "at byte \(index)")
            if let message { decoded.append(message) }
            #expect(try decoder.next() == nil)
        }
        #expect(decoded == Self.messages)
        try decoder.finish()
    }

    @Test func aStreamSplitAtEveryByteBoundaryDecodesTheSame() throws {
        for split in 0...Self.stream.count {
            var decoder = FrameDecoder()
            var decoded: [Message] = []
            decoder.append(Self.stream[..<split])
            while let message = try decoder.next() { decoded.append(message) }
            decoder.append(Self.stream[split...])
            while let message = try decoder.next() { decoded.append(message) }
            #expect(decoded == Self.messages, "split at \(split)")
            try decoder.finish()
        }
    }

    @Test func bufferedBytesCountsAPartialFrame() throws {
        var decoder = FrameDecoder()
        decoder.append(GoldenVector.ping.bytes + GoldenVector.ack.bytes.prefix(7))
        #expect(try decoder.next() == GoldenVector.ping.message)
        #expect(try decoder.next() == nil)
        #expect(decoder.bufferedBytes == 7)
    }

    @Test func finishAtAFrameBoundaryIsClean() throws {
        var decoder = FrameDecoder()
        try decoder.finish()
        decoder.append(GoldenVector.pong.bytes)
        _ = try decoder.next()
        try decoder.finish()
    }

    @Test func finishInsideAFrameIsTruncated() throws {
        let hello = GoldenVector.hello.bytes
        var decoder = FrameDecoder()
        decoder.append(hello.dropLast())
        #expect(try decoder.next() == nil)
        #expect(throws: ProtocolError.truncated(expected: hello.count, available: hello.count - 1)) {
            try decoder.finish()
        }
    }

    @Test func finishInsideTheLengthFieldIsTruncated() {
        var decoder = FrameDecoder()
        decoder.append([0, 0])
        #expect(throws: ProtocolError.truncated(expected: 4, available: 2)) { try decoder.finish() }
    }

    @Test func decodeSingleRefusesEmptyPartialAndTrailingInput() {
        #expect(throws: ProtocolError.truncated(expected: 4, available: 0)) { try FrameDecoder.decodeSingle([]) }
        let ping = GoldenVector.ping.bytes
        #expect(throws: ProtocolError.truncated(expected: 14, available: 13)) {
            try FrameDecoder.decodeSingle(Array(ping.dropLast()))
        }
        #expect(throws: ProtocolError.malformed("1 bytes after the frame")) {
            try FrameDecoder.decodeSingle(ping + [0])
        }
    }

    @Test func anOversizedFrameIsRefusedAsSoonAsItsLengthArrives() {
        var decoder = FrameDecoder(maxFrameBytes: 100)
        decoder.append([0, 0, 0, 101])
        #expect(throws: ProtocolError.oversized(length: 101, limit: 100)) { try decoder.next() }
        #expect(decoder.bufferedBytes == 4)
    }

    @Test func theLargestLengthIsRefusedByTheDefaultLimit() {
        var decoder = FrameDecoder()
        decoder.append([0xff, 0xff, 0xff, 0xff])
        #expect(throws: ProtocolError.oversized(length: 0xffff_ffff, limit: WireFormat.defaultMaxFrameBytes)) {
            try decoder.next()
        }
    }

    @Test func aFrameExactlyAtTheLimitIsAccepted() throws {
        let ping = GoldenVector.ping.bytes
        #expect(try FrameDecoder.decodeSingle(ping, maxFrameBytes: ping.count - 4) == .ping(nonce: 42))
        #expect(throws: ProtocolError.oversized(length: ping.count - 4, limit: ping.count - 5)) {
            try FrameDecoder.decodeSingle(ping, maxFrameBytes: ping.count - 5)
        }
    }

    @Test(arguments: [0, 1])
    func aLengthShorterThanTheHeaderIsMalformed(_ length: UInt8) {
        var decoder = FrameDecoder()
        decoder.append([0, 0, 0, length, 1, 7])
        #expect(throws: ProtocolError.malformed("frame length \(length) is shorter than its header")) {
            try decoder.next()
        }
    }

    @Test(arguments: [0x00, 0x0b, 0x7f, 0xff] as [UInt8])
    func anUnknownTypeIsRefused(_ type: UInt8) {
        #expect(throws: ProtocolError.unknownType(type)) {
            try FrameDecoder.decodeSingle(FrameBuilder.frame(type: type, payload: [0, 0, 0, 0, 0, 0, 0, 1]))
        }
    }

    @Test(arguments: [0x00, 0x03, 0xff] as [UInt8])
    func anotherVersionIsRefused(_ version: UInt8) {
        #expect(throws: ProtocolError.unsupportedVersion(version)) {
            try FrameDecoder.decodeSingle(
                FrameBuilder.frame(
                    type: MessageType.ping.rawValue, version: version, payload: [0, 0, 0, 0, 0, 0, 0, 1]))
        }
    }

    @Test func aBadHeaderIsRefusedBeforeThePayloadArrives() {
        var wrongVersion = FrameDecoder()
        wrongVersion.append([0, 0, 0x10, 0, 3, 1])
        #expect(throws: ProtocolError.unsupportedVersion(3)) { try wrongVersion.next() }

        var unknownType = FrameDecoder()
        unknownType.append([0, 0, 0x10, 0, 1, 0x42])
        #expect(throws: ProtocolError.unknownType(0x42)) { try unknownType.next() }
    }

    @Test func aPayloadErrorConsumesOnlyItsFrame() throws {
        var decoder = FrameDecoder()
        decoder.append(FrameBuilder.frame(.ping, payload: [1, 2, 3]) + GoldenVector.pong.bytes)
        #expect(throws: ProtocolError.self) { try decoder.next() }
        #expect(decoder.bufferedBytes == GoldenVector.pong.bytes.count)
    }

    @Test func oneDecoderCarriesManyFramesAppendedInPieces() throws {
        var decoder = FrameDecoder()
        let frame = GoldenVector.records.bytes
        for round in 0..<1000 {
            decoder.append(frame.prefix(50))
            decoder.append(frame.dropFirst(50))
            #expect(try decoder.next() == GoldenVector.records.message, "round \(round)")
            #expect(decoder.bufferedBytes == 0)
        }
    }

    @Test func aLargeBufferIsLetGoOnceItsFramesAreTakenAndASmallOneIsKept() throws {
        let large = Message.records(
            Records(batchID: 7, calls: [RecordFittingTests.call(request: 100_000, response: 100_000)]))
        var decoder = FrameDecoder()
        let frame = large.encodedFrame()
        decoder.append(frame.prefix(1_000))
        decoder.append(frame.dropFirst(1_000))
        #expect(decoder.capacity > FrameDecoder.keptCapacity)
        #expect(try decoder.next() == large)
        #expect(decoder.capacity == 0)
        #expect(decoder.bufferedBytes == 0)

        // A large frame followed by part of the next one keeps the buffer until that one is taken too.
        let ping = GoldenVector.ping
        decoder.append(frame + ping.bytes.prefix(3))
        #expect(try decoder.next() == large)
        #expect(decoder.capacity > FrameDecoder.keptCapacity)
        decoder.append(ping.bytes.dropFirst(3))
        #expect(try decoder.next() == ping.message)
        #expect(decoder.capacity == 0)

        // Small frames reuse one buffer.
        decoder.append(ping.bytes)
        #expect(try decoder.next() == ping.message)
        let kept = decoder.capacity
        #expect(kept > 0 && kept <= FrameDecoder.keptCapacity)
        decoder.append(ping.bytes)
        #expect(try decoder.next() == ping.message)
        #expect(decoder.capacity == kept)
    }
}
