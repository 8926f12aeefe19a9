import LedgerProtocol
import NIOCore

/// Resolves VERDICTs where they are read, on the link's event loop, instead of passing them through the async
/// receive loop: the waiting call resumes one hop after the frame arrives. Every other message goes on.
final class VerdictHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = Message
    typealias InboundOut = Message

    private let admission: AdmissionClient

    init(admission: AdmissionClient) {
        self.admission = admission
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .verdict(let verdict) = unwrapInboundIn(data) {
            admission.resolve(verdict)
            return
        }
        context.fireChannelRead(data)
    }
}
