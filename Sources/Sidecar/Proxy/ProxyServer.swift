import Logging
import NIOCore
import NIOExtras
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import Synchronization

/// The agent-facing HTTP/1.1 server of `agentledger sidecar`, on SwiftNIO alone: each call stays on the event
/// loop of its agent connection, from the request's first byte through the upstream and back.
///
/// On graceful shutdown it stops accepting, lets every call in flight finish (streams included), closes idle
/// connections, and returns once the last agent connection has closed.
package final class ProxyServer: Service {
    package let core: ProxyCore
    private let host: String
    private let port: Int
    private let onListening: @Sendable (Int) -> Void
    private let local: (@Sendable () async throws -> LocalRoutes)?
    /// Open agent connections, closed at once if the server is cancelled rather than shut down gracefully.
    private let connections = Mutex<[ObjectIdentifier: any Channel]>([:])

    /// `local` (for `agentledger up`) is awaited before the server listens: the in-process server's routes.
    package init(
        host: String, port: Int, core: ProxyCore, local: (@Sendable () async throws -> LocalRoutes)? = nil,
        onListening: @escaping @Sendable (Int) -> Void = { _ in }
    ) {
        self.host = host
        self.port = port
        self.core = core
        self.local = local
        self.onListening = onListening
    }

    package func run() async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        let quiesce = ServerQuiescingHelper(group: group)
        let core = self.core
        let routes = try await local?()
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(quiesce.makeServerChannelHandler(channel: channel))
                }
            }
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                guard core.load.admitConnection() else {
                    core.shipper.counters.add(.agentConnectionsRefused)
                    return channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            ConnectionRefusal(.tooManyConnections(limit: core.load.maxConnections)))
                    }
                }
                let id = ObjectIdentifier(channel)
                self.connections.withLock { $0[id] = channel }
                channel.closeFuture.whenComplete { _ in
                    core.load.connectionClosed()
                    _ = self.connections.withLock { $0.removeValue(forKey: id) }
                }
                return channel.eventLoop.makeCompletedFuture {
                    let operations = channel.pipeline.syncOperations
                    let pool = core.pools.pool(for: channel.eventLoop)
                    // First, below the HTTP codec: the deadlines see every byte the agent sends.
                    let timeouts = AgentConnectionTimeouts(configuration: core.configuration, counters: core.shipper.counters)
                    try operations.addHandler(timeouts)
                    let handler = ProxyConnectionHandler(
                        core: core, pool: pool, timeouts: timeouts,
                        local: routes.map { ($0, $0.pools.pool(for: channel.eventLoop)) })
                    // No outbound header validation: every head written is built from one NIO's parser accepted
                    // (the upstream's response, the in-process server's) plus our own fixed names and generated ids.
                    try operations.configureHTTPServerPipeline(
                        withPipeliningAssistance: true, withErrorHandling: true, withOutboundHeaderValidation: false)
                    // The sidecar's probes are answered here and never reach the proxy (docs/reference.md).
                    try operations.addHandler(SidecarProbeHandler(core: core, timeouts: timeouts))
                    try operations.addHandler(handler)
                }
            }
            .bind(host: host, port: port).get()
        onListening(channel.localAddress?.port ?? port)
        let closed = group.next().makePromise(of: Void.self)
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                try? await closed.futureResult.get()
            } onGracefulShutdown: {
                quiesce.initiateShutdown(promise: closed)
            }
        } onCancel: {
            // Not graceful: every connection goes now, calls in flight included.
            channel.close(promise: nil)
            for child in self.connections.withLock({ Array($0.values) }) { child.close(promise: nil) }
            closed.succeed()
        }
        await core.pools.close()
        await routes?.pools.close()
    }
}
