import LedgerProtocol
import NIOCore

/// Turns inbound bytes into `Message`s with the bounded `FrameDecoder`; a bad frame surfaces as a `ProtocolError`.
///
/// The frame limit is read from `limit` before each read, so a link's limit can grow once it is authenticated. With a
/// `budget`, the bytes held for unfinished frames are reserved from it; a read that would exceed it fails the link
/// with `BufferBudget.Exhausted`.
package struct MessageDecoder: ByteToMessageDecoder {
    package typealias InboundOut = Message

    private var frames: FrameDecoder
    private let limit: FrameLimit
    private let budget: BufferBudget?
    /// Bytes of this decoder currently reserved from `budget`.
    private var reserved = 0

    package init(maxFrameBytes: Int = WireFormat.defaultMaxFrameBytes) {
        self.init(limit: FrameLimit(fixed: maxFrameBytes), budget: nil)
    }

    package init(limit: FrameLimit, budget: BufferBudget?) {
        self.limit = limit
        self.budget = budget
        frames = FrameDecoder(maxFrameBytes: limit.current)
    }

    package mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        frames.maxFrameBytes = limit.current
        frames.append(buffer.readableBytesView)
        buffer.moveReaderIndex(to: buffer.writerIndex)
        while let message = try frames.next() {
            context.fireChannelRead(wrapInboundOut(message))
        }
        try account()
        return .needMoreData
    }

    package mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws
        -> DecodingState
    {
        _ = try decode(context: context, buffer: &buffer)
        if seenEOF { try frames.finish() }
        return .needMoreData
    }

    package mutating func decoderRemoved(context: ChannelHandlerContext) {
        budget?.release(reserved)
        reserved = 0
    }

    /// Brings this decoder's reservation in line with the bytes it holds.
    private mutating func account() throws {
        guard let budget else { return }
        let held = frames.bufferedBytes
        if held > reserved {
            guard budget.reserve(held - reserved) else { throw BufferBudget.Exhausted(limit: budget.limit) }
        } else if held < reserved {
            budget.release(reserved - held)
        }
        reserved = held
    }
}

/// Writes each outbound `Message` as one frame; writing WELCOME raises the link's `FrameLimit`, if it has one.
package struct MessageEncoder: MessageToByteEncoder {
    package typealias OutboundIn = Message

    private let limit: FrameLimit?

    package init(limit: FrameLimit? = nil) {
        self.limit = limit
    }

    package func encode(data: Message, out: inout ByteBuffer) throws {
        if case .welcome = data { limit?.welcomed() }
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
        try wrapping(
            channel, limit: FrameLimit(fixed: maxFrameBytes), budget: nil, frameHandlers: frameHandlers, handlers: handlers)
    }

    /// As `wrapping(_:maxFrameBytes:frameHandlers:handlers:)`, with a limit raised when WELCOME is written and an
    /// optional budget shared by every link's decoder.
    package static func wrapping(
        _ channel: any Channel, limit: FrameLimit, budget: BufferBudget?, frameHandlers: [any ChannelHandler] = [],
        handlers: [any ChannelHandler] = []
    ) throws -> MessageChannel {
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(MessageDecoder(limit: limit, budget: budget)))
        for handler in frameHandlers { try channel.pipeline.syncOperations.addHandler(handler) }
        try channel.pipeline.syncOperations.addHandler(MessageToByteHandler(MessageEncoder(limit: limit)))
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
