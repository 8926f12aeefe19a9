import LedgerProtocolNIO
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// Keep-alive connections to the upstream, one pool per event loop: a call is served on the loop its agent
/// connection lives on, from request to last byte, with no hop to another thread.
final class UpstreamPool {
    let eventLoop: any EventLoop
    private let address: UpstreamAddress
    private let tls: NIOSSLContext?
    private let connectTimeout: TimeAmount
    /// Most recently used last: the oldest age out first.
    private var idle: [UpstreamConnection] = []
    private var sweep: RepeatedTask?
    private var closed = false

    static let maxIdle = 256
    static let idleTimeout = TimeAmount.seconds(60)

    init(eventLoop: any EventLoop, address: UpstreamAddress, tls: NIOSSLContext?, connectTimeout: TimeAmount) {
        self.eventLoop = eventLoop
        self.address = address
        self.tls = tls
        self.connectTimeout = connectTimeout
    }

    /// An open connection: an idle one, or a new one once connected.
    func acquire(_ done: @escaping (Result<UpstreamConnection, any Error>) -> Void) {
        eventLoop.preconditionInEventLoop()
        while let connection = idle.popLast() {
            if connection.isActive { return done(.success(connection)) }
        }
        guard !closed else { return done(.failure(ChannelError.ioOnClosedChannel)) }
        let address = self.address
        let tls = self.tls
        let connecting = ClientBootstrap(group: eventLoop)
            .connectTimeout(connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let operations = channel.pipeline.syncOperations
                    if let tls {
                        try operations.addHandler(
                            NIOSSLClientHandler(context: tls, serverHostname: LinkTLS.serverName(for: address.host)))
                    }
                    // Heads are the agent's, as NIO's parser accepted them, plus our fixed names: not validated twice.
                    try operations.addHTTPClientHandlers(leftOverBytesStrategy: .fireError, enableOutboundHeaderValidation: false)
                    try operations.addHandler(UpstreamConnection())
                }
            }
            .connect(host: address.host, port: address.port)
        connecting.assumeIsolated().whenComplete { result in
            switch result {
            case .success(let channel):
                do {
                    done(.success(try channel.pipeline.syncOperations.handler(type: UpstreamConnection.self)))
                } catch {
                    channel.close(promise: nil)
                    done(.failure(error))
                }
            case .failure(let error):
                done(.failure(error))
            }
        }
    }

    /// Takes back a connection whose exchange ended cleanly; anything else is closed.
    func release(_ connection: UpstreamConnection) {
        guard connection.isReusable, !closed, idle.count < Self.maxIdle else {
            connection.abandon()
            return
        }
        connection.idleSince = .now()
        connection.onIdleClose = { [weak self] gone in self?.idle.removeAll { $0 === gone } }
        idle.append(connection)
        if sweep == nil {
            let bound = NIOLoopBound(self, eventLoop: eventLoop)
            sweep = eventLoop.scheduleRepeatedTask(initialDelay: .seconds(5), delay: .seconds(5)) { _ in
                bound.value.closeIdle(olderThan: .now() - Self.idleTimeout)
            }
        }
    }

    private func closeIdle(olderThan cutoff: NIODeadline) {
        let stale = idle.prefix { $0.idleSince < cutoff }
        idle.removeFirst(stale.count)
        for connection in stale { connection.abandon() }
    }

    /// Closes every idle connection and refuses new ones.
    func close() {
        closed = true
        sweep?.cancel()
        sweep = nil
        let all = idle
        idle = []
        for connection in all { connection.abandon() }
    }
}

/// The pools of every event loop, made on first use.
package final class UpstreamPools: Sendable {
    private let address: UpstreamAddress
    private let tls: NIOSSLContext?
    private let connectTimeout: TimeAmount
    private let pools = Mutex<[ObjectIdentifier: NIOLoopBound<UpstreamPool>]>([:])

    package init(address: UpstreamAddress, tls: TLSConfiguration? = nil, connectTimeout: TimeAmount = .seconds(10)) throws {
        self.address = address
        self.connectTimeout = connectTimeout
        if address.tls {
            var configuration = tls ?? TLSConfiguration.makeClientConfiguration()
            configuration.applicationProtocols = ["http/1.1"]
            self.tls = try NIOSSLContext(configuration: configuration)
        } else {
            self.tls = nil
        }
    }

    /// The pool of `eventLoop`; call on that loop.
    func pool(for eventLoop: any EventLoop) -> UpstreamPool {
        let key = ObjectIdentifier(eventLoop)
        if let existing = pools.withLock({ $0[key] }) { return existing.value }
        let pool = UpstreamPool(eventLoop: eventLoop, address: address, tls: tls, connectTimeout: connectTimeout)
        pools.withLock { $0[key] = NIOLoopBound(pool, eventLoop: eventLoop) }
        return pool
    }

    /// Closes the idle connections of every pool.
    package func close() async {
        let all = pools.withLock { Array($0.values) }
        for bound in all {
            try? await bound.eventLoop.submit { bound.value.close() }.get()
        }
    }
}
