/// Cuts a byte stream into messages. Feed it bytes as they arrive; take messages while it has them.
///
/// Bounded: a frame longer than `maxFrameBytes` is refused as soon as its length is read, before any
/// of it is buffered. Every failure is a `ProtocolError`; the caller closes the link after one.
package struct FrameDecoder: Sendable {
    /// Raised by the link once its peer is authenticated (docs/protocol.md: a small limit applies before WELCOME).
    package var maxFrameBytes: Int
    private var buffer: [UInt8] = []
    private var start = 0

    package init(maxFrameBytes: Int = WireFormat.defaultMaxFrameBytes) {
        self.maxFrameBytes = maxFrameBytes
    }

    /// Bytes received but not yet part of a returned message.
    package var bufferedBytes: Int { buffer.count - start }

    package mutating func append<Bytes: Sequence<UInt8>>(_ bytes: Bytes) {
        if start > 0 && start >= buffer.count / 2 {
            buffer.removeFirst(start)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next complete message, or nil when more bytes are needed.
    package mutating func next() throws(ProtocolError) -> Message? {
        let available = buffer.count - start
        guard available >= 4 else { return nil }
        let length =
            Int(buffer[start]) << 24 | Int(buffer[start + 1]) << 16 | Int(buffer[start + 2]) << 8
            | Int(buffer[start + 3])
        guard length <= maxFrameBytes else { throw .oversized(length: length, limit: maxFrameBytes) }
        guard length >= 2 else { throw .malformed("frame length \(length) is shorter than its header") }
        // Check the header as soon as it is here, so a wrong version or type fails before the payload arrives.
        if available >= 6 {
            try Self.checkHeader(version: buffer[start + 4], type: buffer[start + 5])
        }
        guard available >= 4 + length else { return nil }
        let version = buffer[start + 4]
        let type = try Self.checkHeader(version: version, type: buffer[start + 5])
        let payload = buffer[(start + 6)..<(start + 4 + length)]
        start += 4 + length
        let message = try Message.decode(type: type, version: version, payload: payload)
        // A large buffer is not kept once every byte in it is used: between loads it would hold the size of the
        // largest frame for as long as the link lives (half a megabyte on a collector's link, measured).
        if start == buffer.count && buffer.capacity > Self.keptCapacity {
            buffer = []
            start = 0
        }
        return message
    }

    /// The largest buffer kept between frames.
    package static let keptCapacity = 64 * 1024

    /// Bytes the buffer holds room for (tests).
    package var capacity: Int { buffer.capacity }

    /// Call at end of stream: throws `truncated` when a frame was cut off.
    package func finish() throws(ProtocolError) {
        let available = buffer.count - start
        guard available > 0 else { return }
        var expected = 4
        if available >= 4 {
            expected +=
                Int(buffer[start]) << 24 | Int(buffer[start + 1]) << 16 | Int(buffer[start + 2]) << 8
                | Int(buffer[start + 3])
        }
        throw .truncated(expected: expected, available: available)
    }

    @discardableResult
    private static func checkHeader(version: UInt8, type: UInt8) throws(ProtocolError) -> MessageType {
        guard (WireFormat.version...WireFormat.latestVersion).contains(version) else { throw .unsupportedVersion(version) }
        guard let messageType = MessageType(rawValue: type) else { throw .unknownType(type) }
        return messageType
    }

    /// Decodes exactly one frame from `bytes`, which must hold nothing else.
    package static func decodeSingle(_ bytes: [UInt8], maxFrameBytes: Int = WireFormat.defaultMaxFrameBytes)
        throws(ProtocolError) -> Message
    {
        var decoder = FrameDecoder(maxFrameBytes: maxFrameBytes)
        decoder.append(bytes)
        guard let message = try decoder.next() else {
            try decoder.finish()
            throw .truncated(expected: 4, available: bytes.count)
        }
        guard decoder.bufferedBytes == 0 else {
            throw .malformed("\(decoder.bufferedBytes) bytes after the frame")
        }
        return message
    }
}
