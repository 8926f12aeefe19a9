import LedgerProtocol
import Testing

/// Message payloads: primitive encodings, and payloads that are well framed but do not parse.
@Suite struct MessagePayloadTests {
    @Test func integersAreBigEndian() {
        let bytes = FrameBuilder.payload { w in
            w.write(UInt16(0x0102))
            w.write(UInt32(0x0304_0506))
            w.write(UInt64(0x0708_090a_0b0c_0d0e))
            w.write(Int64(-2))
        }
        #expect(Hex.string(bytes) == "01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e ff ff ff ff ff ff ff fe")
    }

    @Test func optionalsHaveDistinctAbsentAndEmptyForms() throws {
        let bytes = FrameBuilder.payload { w in
            w.write(optional: nil as String?)
            w.write(optional: "")
            w.write(optional: nil as UInt32?)
            w.write(optional: UInt32(0))
        }
        #expect(Hex.string(bytes) == "ff ff ff ff 00 00 00 00 00 01 00 00 00 00")
        var r = ByteReader(bytes[...])
        #expect(try r.readOptionalString() == nil)
        #expect(try r.readOptionalString() == "")
        #expect(try r.readOptionalUInt32() == nil)
        #expect(try r.readOptionalUInt32() == 0)
        try r.expectEnd("optionals")
    }

    @Test func stringsCarryUTF8ByteLengthsNotCharacterCounts() throws {
        let text = "é🦙"
        let bytes = FrameBuilder.payload { $0.write(text) }
        #expect(Hex.string(bytes) == "00 00 00 06 c3 a9 f0 9f a6 99")
        var r = ByteReader(bytes[...])
        #expect(try r.readString() == text)
    }

    /// The ASCII shortcut of `String(utf8:)` must agree with `String(validating:as:)` on every slice: valid ASCII,
    /// valid multi-byte text, and invalid bytes anywhere, at any offset into the buffer.
    @Test func utf8DecodingAgreesWithTheStandardLibrary() {
        var generator = SystemRandomNumberGenerator()
        let pieces: [[UInt8]] = [
            Array("plain ascii".utf8), Array("é🦙東".utf8), [0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0x7f, 0x00],
        ]
        for _ in 0..<2_000 {
            var bytes: [UInt8] = []
            for _ in 0..<Int.random(in: 0...4, using: &generator) { bytes += pieces.randomElement(using: &generator)! }
            let start = Int.random(in: 0...bytes.count, using: &generator)
            let slice = bytes[start...]
            #expect(String(utf8: slice) == String(validating: slice, as: UTF8.self), "\(Hex.string(Array(slice)))")
        }
    }

    @Test func errorCodesKeepTheirNumbersAndNames() {
        let codes: [(ErrorMessage.Code, UInt16, String)] = [
            (.unauthorized, 1, "unauthorized"), (.unsupportedVersion, 2, "unsupported_version"),
            (.malformedFrame, 3, "malformed_frame"), (.frameTooLarge, 4, "frame_too_large"),
            (.unexpectedMessage, 5, "unexpected_message"), (.storeUnavailable, 6, "store_unavailable"),
            (ErrorMessage.Code(rawValue: 99), 99, "code_99"),
        ]
        for (code, raw, name) in codes {
            #expect(code.rawValue == raw)
            #expect(code.description == name)
        }
    }

    @Test func anUnknownErrorCodeStillDecodes() throws {
        let message = Message.error(ErrorMessage(code: ErrorMessage.Code(rawValue: 4242), message: "from the future"))
        #expect(try FrameDecoder.decodeSingle(message.encodedFrame()) == message)
    }

    @Test(arguments: MessageType.allCases)
    func anEmptyPayloadIsMalformed(_ type: MessageType) {
        #expect(throws: ProtocolError.self) { try FrameDecoder.decodeSingle(FrameBuilder.frame(type, payload: [])) }
    }

    @Test(arguments: GoldenVector.allCases)
    func trailingBytesAfterThePayloadAreMalformed(_ vector: GoldenVector) {
        let payload = Array(vector.bytes.dropFirst(WireFormat.headerBytes)) + [0]
        let frame = FrameBuilder.frame(vector.message.type, version: vector.message.frameVersion, payload: payload)
        if vector == .status {
            // Tagged fields: a lone byte after the last field is a tag whose length runs past the payload.
            #expect(throws: ProtocolError.self) { try FrameDecoder.decodeSingle(frame) }
            return
        }
        #expect(throws: ProtocolError.malformed("1 unexpected trailing bytes in \(vector.message.type) payload")) {
            try FrameDecoder.decodeSingle(frame)
        }
    }

    /// A version-1 frame cannot carry what version 2 added.
    @Test func statusInAVersionOneFrameIsMalformed() {
        let payload = Array(GoldenVector.status.bytes.dropFirst(WireFormat.headerBytes))
        #expect(throws: ProtocolError.malformed("STATUS needs a version-2 frame")) {
            try FrameDecoder.decodeSingle(FrameBuilder.frame(.status, version: 1, payload: payload))
        }
    }

    /// STATUS fields: unknown tags are skipped, a repeated or misshapen known one is malformed.
    @Test func statusSkipsUnknownFieldsAndRefusesRepeatedOnes() throws {
        func field(_ tag: UInt8, _ value: [UInt8]) -> [UInt8] {
            FrameBuilder.payload { w in
                w.write(tag)
                w.write(bytes: value)  // its u32 length, then the bytes
            }
        }
        let twelve: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 12]
        let frame = { (payload: [UInt8]) in FrameBuilder.frame(.status, version: 2, payload: payload) }
        #expect(
            try FrameDecoder.decodeSingle(frame(field(3, twelve) + field(200, [1, 2, 3])))
                == .status(SidecarStatus([.captured: 12])))
        #expect(throws: ProtocolError.malformed("status field captured appears twice")) {
            try FrameDecoder.decodeSingle(frame(field(3, twelve) + field(3, twelve)))
        }
        #expect(throws: ProtocolError.self) { try FrameDecoder.decodeSingle(frame(field(3, [0, 12]))) }
        #expect(try FrameDecoder.decodeSingle(frame([])) == .status(SidecarStatus()))
    }

    @Test(arguments: GoldenVector.allCases)
    func aPayloadCutShortIsMalformedNotACrash(_ vector: GoldenVector) {
        let payload = Array(vector.bytes.dropFirst(WireFormat.headerBytes))
        // STATUS is a list of 13-byte fields: cut between two, it is a shorter valid list.
        for keep in 0..<payload.count where vector != .status || keep % 13 != 0 {
            #expect(throws: ProtocolError.self, "\(vector) cut to \(keep) bytes") {
                try FrameDecoder.decodeSingle(
                    FrameBuilder.frame(
                        vector.message.type, version: vector.message.frameVersion, payload: Array(payload.prefix(keep))))
            }
        }
    }

    @Test(
        arguments: [[0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xf8, 0x88, 0x80, 0x80, 0x80]] as [[UInt8]]
    )
    func invalidUTF8IsMalformed(_ invalid: [UInt8]) {
        let payload = FrameBuilder.payload { w in
            w.write(UInt16(1))
            w.write(bytes: invalid)
            w.write(optional: nil as String?)
            w.write("0.1.0")
        }
        #expect(throws: ProtocolError.malformed("source is not valid UTF-8")) {
            try FrameDecoder.decodeSingle(FrameBuilder.frame(.hello, payload: payload))
        }
    }

    @Test func invalidUTF8InAnOptionalStringIsMalformed() {
        let payload = FrameBuilder.payload { w in
            w.write(UInt16(1))
            w.write("pod-a")
            w.write(bytes: [0xff, 0xfe])
            w.write("0.1.0")
        }
        #expect(throws: ProtocolError.malformed("ingest token is not valid UTF-8")) {
            try FrameDecoder.decodeSingle(FrameBuilder.frame(.hello, payload: payload))
        }
    }

    @Test func aStringLengthBeyondThePayloadIsMalformed() {
        let payload = FrameBuilder.payload { w in
            w.write(UInt16(1))
            w.write(UInt32(0xffff_fffe))
        }
        #expect(throws: ProtocolError.malformed("source needs 4294967294 bytes, 0 left")) {
            try FrameDecoder.decodeSingle(FrameBuilder.frame(.hello, payload: payload))
        }
    }

    @Test func aPresenceByteOtherThanZeroOrOneIsMalformed() {
        var verdict = GoldenVector.verdictRefuse.bytes
        verdict[verdict.count - 5] = 2
        #expect(throws: ProtocolError.malformed("presence of retry after is 2, not 0 or 1")) {
            try FrameDecoder.decodeSingle(verdict)
        }
        var error = GoldenVector.error.bytes
        error[error.count - 1] = 7
        #expect(throws: ProtocolError.malformed("presence of batch id is 7, not 0 or 1")) {
            try FrameDecoder.decodeSingle(error)
        }
    }

    @Test func anUnknownVerdictDecisionIsMalformed() {
        var verdict = GoldenVector.verdictRefuse.bytes
        verdict[WireFormat.headerBytes + 8] = 2
        #expect(throws: ProtocolError.malformed("unknown decision 2")) { try FrameDecoder.decodeSingle(verdict) }
    }

    @Test func anAdmitVerdictNeedsNoRefusalFields() throws {
        let verdict = Message.verdict(Verdict(requestID: 9, decision: .admit))
        #expect(
            Hex.string(verdict.encodedFrame())
                == "00 00 00 14 01 04 00 00 00 00 00 00 00 09 00 ff ff ff ff ff ff ff ff 00")
        #expect(try FrameDecoder.decodeSingle(verdict.encodedFrame()) == verdict)
    }
}
