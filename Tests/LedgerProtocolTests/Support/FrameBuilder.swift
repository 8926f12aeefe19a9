import LedgerProtocol

/// Hand-built frames and payloads for tests that need bytes the encoder would never produce.
enum FrameBuilder {
    /// A frame with the given header bytes around `payload`, its length field computed.
    static func frame(type: UInt8, version: UInt8 = WireFormat.version, payload: [UInt8]) -> [UInt8] {
        var w = ByteWriter()
        w.write(UInt32(payload.count + 2))
        w.write(version)
        w.write(type)
        return w.bytes + payload
    }

    static func frame(_ type: MessageType, version: UInt8 = WireFormat.version, payload: [UInt8]) -> [UInt8] {
        frame(type: type.rawValue, version: version, payload: payload)
    }

    /// A payload written with a `ByteWriter`.
    static func payload(_ build: (inout ByteWriter) -> Void) -> [UInt8] {
        var w = ByteWriter()
        build(&w)
        return w.bytes
    }

    /// One TLV field of a captured call.
    static func field(_ tag: UInt8, _ value: [UInt8]) -> [UInt8] {
        payload { w in
            w.write(tag)
            w.write(bytes: value)
        }
    }

    static func field(_ tag: CapturedCall.Tag, _ value: [UInt8]) -> [UInt8] { field(tag.rawValue, value) }

    static func field(_ tag: CapturedCall.Tag, text: String) -> [UInt8] { field(tag.rawValue, Array(text.utf8)) }

    static func field(_ tag: CapturedCall.Tag, int64 value: Int64) -> [UInt8] {
        field(tag.rawValue, payload { $0.write(value) })
    }

    /// The four fields every record must carry.
    static func requiredFields(actionID: String = "a") -> [CapturedCall.Tag: [UInt8]] {
        [
            .actionID: field(.actionID, text: actionID),
            .arrivedAtMicros: field(.arrivedAtMicros, int64: 1),
            .method: field(.method, text: "POST"),
            .path: field(.path, text: "/v1/chat/completions"),
        ]
    }

    /// A RECORDS frame whose records are the given TLV field lists, concatenated as they are.
    static func records(batchID: UInt64 = 1, count: UInt32? = nil, records: [[UInt8]]) -> [UInt8] {
        frame(
            .records,
            payload: payload { w in
                w.write(batchID)
                w.write(count ?? UInt32(records.count))
                for record in records { w.write(bytes: record) }
            })
    }

    /// Feeds `bytes` to a fresh decoder in one piece and drains it.
    static func decodeAll(_ bytes: [UInt8], maxFrameBytes: Int = WireFormat.defaultMaxFrameBytes) throws(ProtocolError)
        -> [Message]
    {
        var decoder = FrameDecoder(maxFrameBytes: maxFrameBytes)
        decoder.append(bytes)
        var messages: [Message] = []
        while let message = try decoder.next() { messages.append(message) }
        try decoder.finish()
        return messages
    }
}
