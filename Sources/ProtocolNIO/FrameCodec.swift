import LedgerProtocol
import NIOCore

/// Turns inbound bytes into `Message`s with the bounded `FrameDecoder`; a bad frame surfaces as a `ProtocolError`.
package struct MessageDecoder: ByteToMessageDecoder {
    package typealias InboundOut = Message

    private var frames: FrameDecoder

    package init(maxFrameBytes: Int = WireFormat.defaultMaxFrameBytes) {
        frames = FrameDecoder(maxFrameBytes: maxFrameBytes)
    }

    package mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        frames.append(buffer.readableBytesView)
        buffer.moveReaderIndex(to: buffer.writerIndex)
        while let message = try frames.next() {
            context.fireChannelRead(wrapInboundOut(message))
        }
        return .needMoreData
    }

    package mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws
        -> DecodingState
    {
        _ = try decode(context: context, buffer: &buffer)
        if seenEOF { try frames.finish() }
        return .needMoreData
    }
}

/// Writes each outbound `Message` as one frame.
package struct MessageEncoder: MessageToByteEncoder {
    package typealias OutboundIn = Message

    package init() {}

    package func encode(data: Message, out: inout ByteBuffer) throws {
        out.writeBytes(data.encodedFrame())
    }
}

/// A TCP link carrying messages both ways.
package typealias MessageChannel = NIOAsyncChannel<Message, Message>

extension MessageChannel {
    /// Adds the frame codec to a fresh channel, then `handlers` (which see `Message`s both ways), and wraps it for
    /// async use.
    ///
    /// `frameHandlers` go between the decoder and the encoder: they read `Message`s and write ready-made frames
    /// (`ByteBuffer`s), and see everything written by the async side as encoded frames.
    package static func wrapping(
        _ channel: any Channel, maxFrameBytes: Int, frameHandlers: [any ChannelHandler] = [],
        handlers: [any ChannelHandler] = []
    ) throws -> MessageChannel {
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(MessageDecoder(maxFrameBytes: maxFrameBytes)))
        for handler in frameHandlers { try channel.pipeline.syncOperations.addHandler(handler) }
        try channel.pipeline.syncOperations.addHandler(MessageToByteHandler(MessageEncoder()))
        for handler in handlers { try channel.pipeline.syncOperations.addHandler(handler) }
        return try MessageChannel(wrappingChannelSynchronously: channel)
    }
}

/// The sidecar's end of a link: messages in, ready-made frames out (its RECORDS frames are assembled from
/// records already encoded in the spool, so nothing is encoded twice).
package typealias FrameChannel = NIOAsyncChannel<Message, ByteBuffer>

extension FrameChannel {
    /// `handlers` go between the decoder and the async channel: they see decoded messages first.
    package static func wrapping(
        _ channel: any Channel, maxFrameBytes: Int, handlers: [any ChannelHandler] = []
    ) throws -> FrameChannel {
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(MessageDecoder(maxFrameBytes: maxFrameBytes)))
        for handler in handlers { try channel.pipeline.syncOperations.addHandler(handler) }
        return try FrameChannel(wrappingChannelSynchronously: channel)
    }
}
