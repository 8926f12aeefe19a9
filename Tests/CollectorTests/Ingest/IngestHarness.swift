import Foundation
import LedgerProtocol
import LedgerProtocolNIO
import LedgerTestSupport
import Logging
import NIOCore
import NIOPosix

@testable import Collector

/// A real `IngestServer` on 127.0.0.1 (port 0) over an in-memory SQLite store, with clients that
/// speak the protocol properly and clients that send raw bytes. Every wait is bounded.
struct IngestHarness: Sendable {
    let port: Int
    let store: SQLiteStore
    let counters: CollectorCounters
    /// The server's link caps and buffer budget, to observe what it holds.
    let links: LinkAdmission
    let buffered: BufferBudget
    /// The enforcer judging this server's ADMITs, when it has a policy.
    let enforcer: Enforcer?
    /// A follower's link to the enforcer.
    var forwarder: EnforcerForwarder? = nil

    static let logger = Integration.logger
    typealias TimedOut = Integration.TimedOut

    /// Starts the server, runs `body`, then stops the server and closes the store, even when `body` throws.
    /// With `policy`, the server enforces it: ADMITs are answered by the `AdmissionHandler` on the event loop.
    /// With `leadership` other than the sole enforcer's, the server is a follower: its ADMITs go to the enforcer
    /// `leadership` names, through an `EnforcerForwarder` waiting `forwardTimeout` for each VERDICT.
    static func run(
        token: String? = nil, policy: EnforcementPolicy? = nil, leadership: Leadership = .sole(),
        forwardTimeout: Duration = .milliseconds(500),
        configure: (inout IngestServer.Configuration) -> Void = { _ in },
        _ body: (IngestHarness) async throws -> Void
    ) async throws {
        let store = try await SQLiteStore.open(path: ":memory:", logger: logger)
        try await store.migrate()
        let counters = CollectorCounters()
        var configuration = IngestServer.Configuration()
        configuration.host = "127.0.0.1"
        configuration.port = 0
        configuration.ingestToken = token
        configuration.collectorID = "test-collector"
        configure(&configuration)
        let enforcer = policy.map {
            Enforcer(policy: $0, prices: .builtIn, store: store, logger: logger, leadership: leadership)
        }
        let forwarder = enforcer.flatMap { enforcer in
            leadership.isEnforcer
                ? nil
                : EnforcerForwarder(
                    leadership: leadership, ingestToken: token, timeout: forwardTimeout, counters: enforcer.counters,
                    logger: logger)
        }
        let server = try await IngestServer.bind(
            configuration: configuration, pipeline: IngestPipeline(normalizer: Normalizer(), store: store, counters: counters),
            counters: counters, enforcer: enforcer, forwarder: forwarder, logger: logger)
        let task = Task { try await server.run() }
        let forwarding = forwarder.map { forwarder in Task { try await forwarder.run() } }
        defer { forwarding?.cancel() }
        let harness = IngestHarness(
            port: server.port, store: store, counters: counters, links: server.links, buffered: server.buffered,
            enforcer: enforcer, forwarder: forwarder)
        var failure: (any Error)?
        do {
            try await body(harness)
        } catch {
            failure = error
        }
        task.cancel()
        _ = try? await within(.seconds(5), "ingest server to stop") { _ = try? await task.value }
        try? await store.close()
        if let failure { throw failure }
    }

    static func within<T: Sendable>(
        _ limit: Duration, _ what: String, _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        try await Integration.within(limit, what, body)
    }

    static func eventually(within limit: Duration = .seconds(5), _ condition: () async throws -> Bool) async rethrows -> Bool {
        try await Integration.eventually(within: limit, condition)
    }

    /// Opens a protocol link, runs `body` on it within 10 s, then closes it.
    func withLink<T: Sendable>(_ body: @escaping @Sendable (inout ProtocolLink) async throws -> T) async throws -> T {
        let port = self.port
        return try await Self.within(.seconds(10), "protocol link conversation") {
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(host: "127.0.0.1", port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try MessageChannel.wrapping(channel, maxFrameBytes: WireFormat.defaultMaxFrameBytes)
                    }
                }
            return try await channel.executeThenClose { inbound, outbound in
                var link = ProtocolLink(inbound: inbound.makeAsyncIterator(), outbound: outbound)
                return try await body(&link)
            }
        }
    }

    /// Opens a connection that sends raw bytes and reads decoded messages, runs `body` on it within 10 s, then
    /// closes it.
    func withRawLink<T: Sendable>(_ body: @escaping @Sendable (inout RawLink) async throws -> T) async throws -> T {
        let port = self.port
        return try await Self.within(.seconds(10), "raw link conversation") {
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(host: "127.0.0.1", port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
            return try await channel.executeThenClose { inbound, outbound in
                var link = RawLink(inbound: inbound.makeAsyncIterator(), outbound: outbound)
                return try await body(&link)
            }
        }
    }

    /// Sends raw bytes on a fresh connection, optionally half-closes, and reads until the server closes
    /// (within 5 s). Returns the frames the server sent before closing.
    func rogue(_ bytes: [UInt8], halfClose: Bool = false) async throws -> [Message] {
        let port = self.port
        let received = try await Self.within(.seconds(5), "server to close a rogue connection") {
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(host: "127.0.0.1", port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try NIOAsyncChannel<ByteBuffer, ByteBuffer>(
                            wrappingChannelSynchronously: channel,
                            configuration: .init(isOutboundHalfClosureEnabled: true))
                    }
                }
            return try await channel.executeThenClose { inbound, outbound in
                do {
                    try await outbound.write(ByteBuffer(bytes: bytes))
                    if halfClose { outbound.finish() }
                } catch let error as ChannelError where error == .ioOnClosedChannel {
                    // A link refused at accept (over a cap) may be closed before these bytes leave; what the server
                    // sent before closing is still read below.
                } catch let error as IOError where error.errnoCode == ECONNRESET || error.errnoCode == EPIPE {
                }
                var received: [UInt8] = []
                do {
                    for try await chunk in inbound { received.append(contentsOf: chunk.readableBytesView) }
                } catch let error as ChannelError where error == .eof {
                } catch let error as IOError where error.errnoCode == ECONNRESET {
                } catch let error as ChannelError where error == .ioOnClosedChannel {
                }
                return received
            }
        }
        var decoder = FrameDecoder()
        decoder.append(received)
        var messages: [Message] = []
        while let message = try decoder.next() { messages.append(message) }
        return messages
    }
}

/// One sidecar-like connection: send a message, read the next one (nil once the server closed).
struct ProtocolLink {
    var inbound: NIOAsyncChannelInboundStream<Message>.AsyncIterator
    let outbound: NIOAsyncChannelOutboundWriter<Message>

    func send(_ message: Message) async throws {
        try await outbound.write(message)
    }

    mutating func receive() async throws -> Message? {
        do {
            return try await inbound.next()
        } catch let error as IOError where error.errnoCode == ECONNRESET {
            return nil
        }
    }

    mutating func exchange(_ message: Message) async throws -> Message? {
        try await send(message)
        return try await receive()
    }

    static func hello(token: String? = "secret", version: UInt16 = UInt16(WireFormat.version)) -> Message {
        .hello(Hello(protocolVersion: version, source: "test-sidecar", ingestToken: token, softwareVersion: "test"))
    }
}

/// A connection that writes raw bytes and reads the server's frames as messages.
struct RawLink {
    var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    var decoder = FrameDecoder()

    init(inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator, outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>) {
        self.inbound = inbound
        self.outbound = outbound
    }

    func send(_ bytes: [UInt8]) async throws {
        try await outbound.write(ByteBuffer(bytes: bytes))
    }

    /// The next message from the server; nil once it closed the link.
    mutating func receive() async throws -> Message? {
        while true {
            if let message = try decoder.next() { return message }
            do {
                guard let chunk = try await inbound.next() else { return nil }
                decoder.append(chunk.readableBytesView)
            } catch let error as IOError where error.errnoCode == ECONNRESET {
                return nil
            } catch let error as ChannelError where error == .eof {
                return nil
            }
        }
    }

    /// The header of a frame of `length` bytes (type and version included), to be followed by its payload.
    static func header(length: Int, type: MessageType) -> [UInt8] {
        [
            UInt8(truncatingIfNeeded: length >> 24), UInt8(truncatingIfNeeded: length >> 16),
            UInt8(truncatingIfNeeded: length >> 8), UInt8(truncatingIfNeeded: length), WireFormat.version, type.rawValue,
        ]
    }
}
