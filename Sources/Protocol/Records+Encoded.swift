extension CapturedCall {
    /// The call's tagged fields alone, as one record of a RECORDS frame and one record of the sidecar's spool.
    package func encodedFields() -> [UInt8] {
        func size(_ headers: [HeaderField]) -> Int { headers.reduce(0) { $0 + 8 + $1.name.utf8.count + $1.value.utf8.count } }
        let headerBytes = size(requestHeaders) + size(responseHeaders)
        var writer = ByteWriter(capacity: 256 + headerBytes + requestBody.count + responseBody.count)
        encodeFields(into: &writer)
        return writer.bytes
    }
}

extension Records {
    /// A whole RECORDS frame built from calls already encoded with `encodedFields()`: the same bytes as
    /// `Message.records(...).encodedFrame()`, without decoding and encoding the calls again.
    package static func encodedFrame(batchID: UInt64, encodedCalls: [[UInt8]]) -> [UInt8] {
        var writer = ByteWriter(capacity: 18 + encodedCalls.reduce(0) { $0 + $1.count + 4 })
        writer.write(UInt32(0))
        writer.write(WireFormat.version)
        writer.write(MessageType.records.rawValue)
        writer.write(batchID)
        writer.write(UInt32(encodedCalls.count))
        for call in encodedCalls { writer.write(bytes: call) }
        writer.patch(UInt32(writer.bytes.count - 4), at: 0)
        return writer.bytes
    }
}
