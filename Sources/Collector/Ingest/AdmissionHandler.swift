import LedgerProtocol
import NIOCore

/// Answers ADMIT on the link's event loop, before the message reaches the async session loop: a verdict is a lock
/// and a few lookups. The VERDICTs of one read are encoded back to back into one buffer and go out with one write
/// and one flush. Only an ADMIT whose session spend must first be read from the store (or one before WELCOME)
/// travels on to the session loop.
///
/// Sits between the frame decoder and the encoder (`MessageChannel.wrapping(frameHandlers:)`): it reads messages and
/// writes frames, and sees the session loop's writes as encoded frames.
final class AdmissionHandler: ChannelDuplexHandler {
    typealias InboundIn = Message
    typealias InboundOut = Message
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let enforcer: Enforcer
    /// Set when the session loop writes WELCOME: only then may ADMITs be answered here.
    private var welcomed = false
    /// VERDICT frames of the current read, not yet written.
    private var verdicts = ByteWriter(capacity: 4096)

    init(enforcer: Enforcer) {
        self.enforcer = enforcer
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if welcomed, case .admit(let admit) = unwrapInboundIn(data), let verdict = enforcer.immediateVerdict(for: admit) {
            Message.verdict(verdict).encodeFrame(into: &verdicts)
            return
        }
        context.fireChannelRead(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if !verdicts.bytes.isEmpty {
            var frames = context.channel.allocator.buffer(capacity: verdicts.bytes.count)
            frames.writeBytes(verdicts.bytes)
            verdicts.clear()
            context.writeAndFlush(wrapOutboundOut(frames), promise: nil)
        }
        context.fireChannelReadComplete()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let frame = unwrapOutboundIn(data)
        // Byte 5 of a frame is its message type (after the 4-byte length and the version byte).
        if !welcomed, frame.getInteger(at: frame.readerIndex + 5, as: UInt8.self) == MessageType.welcome.rawValue {
            welcomed = true
        }
        context.write(data, promise: promise)
    }
}
