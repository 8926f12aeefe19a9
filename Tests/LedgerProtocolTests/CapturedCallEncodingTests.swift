import LedgerProtocol
import Testing

/// The tagged-field (TLV) encoding of a captured call inside RECORDS.
@Suite struct CapturedCallEncodingTests {
    typealias Tag = CapturedCall.Tag

    static let fullCall = CapturedCall(
        actionID: "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", arrivedAtMicros: CapturedCall.arrivalRange.upperBound - 1,
        method: "POST",
        path: "/v1/messages?beta=true", source: "pod-ä",
        metadata: CallMetadata(
            sessionID: "sess", userID: "", agentName: "writer", appID: "app", parentActionID: "parent",
            environment: "prod", handoffFrom: "researcher", handoffTo: "writer"),
        requestHeaders: [HeaderField("content-type", "application/json"), HeaderField("x-empty", "")],
        requestBody: Array(#"{"model":"claude"}"#.utf8), requestBodyTruncated: true, statusCode: 529,
        responseHeaders: [HeaderField("retry-after", "3")], responseBody: [0, 0xff, 0x80], responseBodyTruncated: true,
        firstByteMicros: 0, completedMicros: CapturedCall.durationRange.upperBound, outcome: .upstreamFailed,
        outcomeDetail: "reset by peer",
        usageInjected: true)

    /// The tags of a record's fields, in order.
    static func tags(of call: CapturedCall) throws -> [UInt8] {
        var w = ByteWriter()
        call.encodeFields(into: &w)
        var r = ByteReader(w.bytes[...])
        var tags: [UInt8] = []
        while !r.isAtEnd {
            tags.append(try r.readUInt8())
            _ = try r.readBytes()
        }
        return tags
    }

    static func decode(_ fields: [[UInt8]]) throws(ProtocolError) -> CapturedCall {
        let bytes = fields.flatMap { $0 }
        return try CapturedCall.decodeFields(bytes[...])
    }

    @Test func everyFieldRoundTrips() throws {
        var w = ByteWriter()
        Self.fullCall.encodeFields(into: &w)
        #expect(try CapturedCall.decodeFields(w.bytes[...]) == Self.fullCall)
        #expect(try Self.tags(of: Self.fullCall) == Tag.allCases.map(\.rawValue))
    }

    @Test func absentOptionalsAndDefaultsAreNotWritten() throws {
        let minimal = CapturedCall(actionID: "a", arrivedAtMicros: 1, method: "GET", path: "/", source: "s")
        let expected: [Tag] = [.actionID, .arrivedAtMicros, .method, .path, .source, .completedMicros]
        #expect(try Self.tags(of: minimal) == expected.map(\.rawValue))
    }

    @Test func theTagTableIsStable() {
        let names = Tag.allCases.map { "\($0.rawValue)=\($0)" }.joined(separator: " ")
        #expect(
            names == "1=actionID 2=arrivedAtMicros 3=method 4=path 5=source 6=sessionID 7=userID 8=agentName "
                + "9=appID 10=parentActionID 11=environment 12=handoffFrom 13=handoffTo 14=requestHeaders "
                + "15=requestBody 16=requestBodyTruncated 17=statusCode 18=responseHeaders 19=responseBody "
                + "20=responseBodyTruncated 21=firstByteMicros 22=completedMicros 23=outcome 24=outcomeDetail "
                + "25=usageInjected")
    }

    @Test func unknownTagsAreSkippedWhereverTheyAppear() throws {
        let required = FrameBuilder.requiredFields()
        let fields: [[UInt8]] = [
            FrameBuilder.field(0, []),
            required[.actionID]!,
            FrameBuilder.field(200, Array("a field from protocol version 2".utf8)),
            required[.arrivedAtMicros]!, required[.method]!,
            FrameBuilder.field(26, [0xff, 0xfe, 0x00]),
            FrameBuilder.field(26, [1]),
            required[.path]!,
            FrameBuilder.field(255, Array(repeating: 7, count: 1000)),
        ]
        let call = try Self.decode(fields)
        #expect(
            call
                == CapturedCall(
                    actionID: "a", arrivedAtMicros: 1, method: "POST", path: "/v1/chat/completions", source: ""))
    }

    @Test func fieldsMayComeInAnyOrder() throws {
        let fields = FrameBuilder.requiredFields().sorted { $0.key.rawValue > $1.key.rawValue }.map(\.value)
        #expect(try Self.decode(fields).path == "/v1/chat/completions")
    }

    @Test(arguments: [Tag.actionID, .arrivedAtMicros, .method, .path])
    func aMissingRequiredFieldIsMalformed(_ missing: Tag) {
        var fields = FrameBuilder.requiredFields()
        fields[missing] = nil
        let record = fields.sorted { $0.key.rawValue < $1.key.rawValue }.flatMap(\.value)
        #expect(throws: ProtocolError.malformed("record lacks required field \(missing)")) {
            try CapturedCall.decodeFields(record[...])
        }
        // In a RECORDS frame, such a record is set aside alone; the frame itself is well formed.
        let frame = FrameBuilder.records(records: [record])
        let expected = Records(
            batchID: 1, calls: [],
            rejected: [RejectedRecord(bytes: record, reason: "malformed payload: record lacks required field \(missing)")])
        #expect((try? FrameDecoder.decodeSingle(frame)) == .records(expected))
    }

    @Test func aDuplicateFieldIsMalformed() {
        let required = FrameBuilder.requiredFields()
        let fields = [
            required[.actionID]!, required[.arrivedAtMicros]!, required[.method]!, required[.path]!,
            FrameBuilder.field(.actionID, text: "b"),
        ]
        #expect(throws: ProtocolError.malformed("field actionID appears twice")) { try Self.decode(fields) }
    }

    @Test(
        arguments: [
            (Tag.arrivedAtMicros, [0, 0, 0, 1]), (.statusCode, [0, 200, 0]), (.statusCode, [200]),
            (.requestBodyTruncated, []), (.usageInjected, [1, 1]), (.completedMicros, Array(repeating: 0, count: 9)),
        ] as [(Tag, [UInt8])])
    func aFixedSizeFieldOfTheWrongSizeIsMalformed(_ tag: Tag, _ value: [UInt8]) {
        var fields = FrameBuilder.requiredFields()
        fields[tag] = FrameBuilder.field(tag, value)
        #expect(throws: ProtocolError.self) { try Self.decode(Array(fields.values)) }
    }

    @Test func aFlagOtherThanZeroOrOneIsMalformed() {
        var fields = FrameBuilder.requiredFields()
        fields[.usageInjected] = FrameBuilder.field(.usageInjected, [2])
        #expect(throws: ProtocolError.malformed("usage injected is 2, not 0 or 1")) {
            try Self.decode(Array(fields.values))
        }
    }

    @Test func anUnknownOutcomeIsMalformed() {
        var fields = FrameBuilder.requiredFields()
        fields[.outcome] = FrameBuilder.field(.outcome, [9])
        #expect(throws: ProtocolError.malformed("unknown outcome 9")) { try Self.decode(Array(fields.values)) }
    }

    @Test(arguments: [Tag.actionID, .path, .sessionID, .outcomeDetail])
    func invalidUTF8InATextFieldIsMalformed(_ tag: Tag) {
        var fields = FrameBuilder.requiredFields()
        fields[tag] = FrameBuilder.field(tag, [0x61, 0xff])
        #expect(throws: ProtocolError.malformed("field \(tag) is not valid UTF-8")) {
            try Self.decode(Array(fields.values))
        }
    }

    @Test func aHeaderCountBeyondTheFieldIsMalformed() {
        var fields = FrameBuilder.requiredFields()
        fields[.requestHeaders] = FrameBuilder.field(
            .requestHeaders, FrameBuilder.payload { $0.write(UInt32(0xffff_ffff)) })
        #expect(throws: ProtocolError.malformed("header count 4294967295 too large")) {
            try Self.decode(Array(fields.values))
        }
    }

    @Test func aFieldLengthBeyondTheRecordIsMalformed() {
        let fields = [FrameBuilder.requiredFields()[.actionID]!, [Tag.method.rawValue, 0, 0, 0, 9, 0x41]]
        #expect(throws: ProtocolError.malformed("field 3 needs 9 bytes, 1 left")) { try Self.decode(fields) }
    }

    @Test func aRecordCountLargerThanThePayloadCanHoldIsMalformed() {
        let frame = FrameBuilder.records(count: 1000, records: [])
        #expect(throws: ProtocolError.malformed("record count 1000 exceeds what 0 bytes can hold")) {
            try FrameDecoder.decodeSingle(frame)
        }
    }

    @Test func aRecordCountThatOverstatesTheRecordsIsMalformed() {
        let record = FrameBuilder.requiredFields().values.flatMap { $0 }
        let frame = FrameBuilder.records(count: 2, records: [record])
        #expect(throws: ProtocolError.self) { try FrameDecoder.decodeSingle(frame) }
    }

    @Test func aRecordCountThatUnderstatesTheRecordsLeavesTrailingBytes() {
        let record = FrameBuilder.requiredFields().values.flatMap { $0 }
        let frame = FrameBuilder.records(count: 1, records: [record, record])
        #expect(throws: ProtocolError.malformed("\(record.count + 4) unexpected trailing bytes in records payload")) {
            try FrameDecoder.decodeSingle(frame)
        }
    }

    @Test func anEmptyBatchIsValid() throws {
        let message = Message.records(Records(batchID: 3, calls: []))
        #expect(Hex.string(message.encodedFrame()) == "00 00 00 0e 01 05 00 00 00 00 00 00 00 03 00 00 00 00")
        #expect(try FrameDecoder.decodeSingle(message.encodedFrame()) == message)
    }
}
