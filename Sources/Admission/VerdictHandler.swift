import LedgerProtocol
import NIOCore

/// Resolves VERDICTs where they are read, on the link's event loop, instead of passing them through the async
/// receive loop: the waiting call resumes one hop after the frame arrives. Every other message goes on.
package final class VerdictHandler: ChannelInboundHandler, Sendable {
    package typealias InboundIn = Message
    package typealias InboundOut = Message

    private let admission: AdmissionClient

    package init(admission: AdmissionClient) {
        self.admission = admission
    }

    package func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .verdict(let verdict) = unwrapInboundIn(data) {
            admission.resolve(verdict)
            return
        }
        context.fireChannelRead(data)
    }
}
