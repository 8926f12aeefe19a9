import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A bare upstream on 127.0.0.1 that counts the connections it accepts: it either never answers (for the head
/// timeout) or answers every request with one fixed JSON body (for connection reuse).
final class ScriptedUpstream: Sendable {
    enum Behaviour: Sendable {
        /// Reads what it is sent and never answers.
        case silent
        /// Answers each request with 200 and `body`; with `close`, says `Connection: close` and closes after it.
        case answer(body: String, close: Bool)
        /// Stops reading once a request head has arrived, then after `delay` answers 200 and `body` without
        /// having read the request's body, as a server refusing an upload early does; with `close`, says
        /// `Connection: close` and closes.
        case answerEarly(body: String, delay: Duration, close: Bool)
    }

    private let channels = Mutex<(server: (any Channel)?, accepted: [any Channel])>((nil, []))

    var port: Int { channels.withLock { $0.server?.localAddress?.port } ?? 0 }
    /// Connections accepted so far.
    var accepted: Int { channels.withLock { $0.accepted.count } }

    private init() {}

    static func start(_ behaviour: Behaviour) async throws -> ScriptedUpstream {
        let upstream = ScriptedUpstream()
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { [upstream] channel in
                upstream.channels.withLock { $0.accepted.append(channel) }
                let answer: FixedAnswer
                switch behaviour {
                case .silent: return channel.eventLoop.makeSucceededVoidFuture()
                case .answer(let body, let close): answer = FixedAnswer(body: body, close: close, early: nil)
                case .answerEarly(let body, let delay, let close): answer = FixedAnswer(body: body, close: close, early: delay)
                }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(answer)
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        upstream.channels.withLock { $0.server = server }
        return upstream
    }

    /// Runs `body` with a started upstream and stops it afterwards, even when `body` throws.
    static func with<T>(_ behaviour: Behaviour, _ body: (ScriptedUpstream) async throws -> T) async throws -> T {
        let upstream = try await start(behaviour)
        do {
            let result = try await body(upstream)
            try await upstream.stop()
            return result
        } catch {
            try? await upstream.stop()
            throw error
        }
    }

    /// Stops listening and closes every accepted connection still open.
    func stop() async throws {
        let (server, accepted) = channels.withLock { ($0.server, $0.accepted) }
        for channel in accepted { try? await channel.close() }
        try await server?.close()
    }

    /// Answers every request once it has been read whole, or `early` after its head.
    private final class FixedAnswer: ChannelInboundHandler, Sendable {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        let body: String
        let close: Bool
        let early: Duration?

        init(body: String, close: Bool, early: Duration?) {
            self.body = body
            self.close = close
            self.early = early
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch (unwrapInboundIn(data), early) {
            case (.end, nil):
                respond(context)
            case (.head, let delay?):
                context.channel.setOption(.autoRead, value: false).whenComplete { _ in }
                let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
                context.eventLoop.scheduleTask(in: .nanoseconds(Int64(delay / .nanoseconds(1)))) {
                    bound.value.0.respond(bound.value.1)
                }
            default:
                break
            }
        }

        private func respond(_ context: ChannelHandlerContext) {
            var headers: HTTPHeaders = ["content-type": "application/json", "content-length": String(body.utf8.count)]
            if close { headers.add(name: "connection", value: "close") }
            context.write(
                wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: body)))), promise: nil)
            let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
            if close {
                let channel = context.channel
                done.whenComplete { _ in channel.close(promise: nil) }
            }
        }
    }
}
