import LedgerProtocol
import LedgerProtocolNIO
import LedgerTestSupport
import NIOCore
import NIOPosix
import Synchronization

/// A collector stand-in speaking the wire protocol: answers HELLO with WELCOME, keeps every received
/// call and ACKs each batch (or holds the ACKs when told to). It can be stopped and started again on
/// the same port, to play a collector that goes away and comes back.
final class FakeCollector: Sendable {
    /// What the fake has seen and the channels it must close on `stop()`.
    private struct State {
        var calls: [CapturedCall] = []
        var hellos: [Hello] = []
        var holdAcks = false
        var admits: [Admit] = []
        var statuses: [SidecarStatus] = []
        /// The highest protocol version it speaks: 1 plays a collector of an earlier release.
        var latestVersion = UInt16(WireFormat.latestVersion)
        var admission = Admission.notRequired
        var heldAcks: [(writer: NIOAsyncChannelOutboundWriter<Message>, ack: Ack)] = []
        var server: (any Channel)?
        var links: [any Channel] = []
        var acceptLoop: Task<Void, Never>?
    }

    /// How the fake answers ADMIT.
    enum Admission: Sendable {
        /// WELCOME says admission is not required.
        case notRequired
        /// Every call is admitted.
        case admitAll
        /// Every call is refused with this type, message and Retry-After.
        case refuseAll(type: String, message: String, retryAfter: UInt32?)
        /// ADMITs are read but never answered.
        case silent
    }

    private let state = Mutex(State())
    var admits: [Admit] { state.withLock { $0.admits } }
    var statuses: [SidecarStatus] { state.withLock { $0.statuses } }

    /// Makes the fake refuse HELLOs above `version` as a collector of an earlier release does.
    func speakUpTo(_ version: UInt16) {
        state.withLock { $0.latestVersion = version }
    }

    /// Takes effect for links welcomed after the call.
    func setAdmission(_ admission: Admission) {
        state.withLock { $0.admission = admission }
    }
    private let boundPort = Mutex(0)

    /// The port it listens on; fixed by the first `start`.
    var port: Int { boundPort.withLock { $0 } }
    /// Every call received so far, in arrival order, replays included, across restarts.
    var calls: [CapturedCall] { state.withLock { $0.calls } }
    var hellos: [Hello] { state.withLock { $0.hellos } }

    static func started() async throws -> FakeCollector {
        let collector = FakeCollector()
        try await collector.start()
        return collector
    }

    /// Starts listening: on a free port the first time, on the same port afterwards.
    func start() async throws {
        let server = try await bind()
        let bound = server.channel.localAddress?.port ?? 0
        boundPort.withLock { $0 = bound }
        let loop = Task<Void, Never> {
            await withDiscardingTaskGroup { group in
                try? await server.executeThenClose { connections in
                    for try await connection in connections {
                        self.state.withLock { $0.links.append(connection.channel) }
                        group.addTask { await self.serve(connection) }
                    }
                }
                return
            }
        }
        state.withLock {
            $0.server = server.channel
            $0.acceptLoop = loop
        }
    }

    /// Binds the listener. A restart on the same port retries for a few seconds: under a loaded test run another
    /// process may briefly hold the port (an outgoing connection's ephemeral port) right after `stop()`.
    private func bind() async throws -> NIOAsyncChannel<MessageChannel, Never> {
        var attempt = 0
        while true {
            do {
                return try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                    .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                    .bind(host: "127.0.0.1", port: port) { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try MessageChannel.wrapping(channel, maxFrameBytes: WireFormat.defaultMaxFrameBytes)
                        }
                    }
            } catch let error as IOError where error.errnoCode == EADDRINUSE && port != 0 && attempt < 50 {
                attempt += 1
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    /// Closes the listener and every open link, and waits (bounded) until they are gone.
    func stop() async {
        let (server, links, loop) = state.withLock { state in
            defer {
                state.server = nil
                state.links = []
                state.acceptLoop = nil
                state.heldAcks = []
            }
            return (state.server, state.links, state.acceptLoop)
        }
        try? await server?.close()
        for link in links { try? await link.close() }
        if let loop {
            _ = try? await Integration.within(.seconds(5), "fake collector to stop") { await loop.value }
        }
    }

    /// While true, batches are kept but not acknowledged; setting it false sends the held ACKs.
    func holdAcks(_ hold: Bool) async {
        let released = state.withLock { state in
            state.holdAcks = hold
            defer { if !hold { state.heldAcks = [] } }
            return hold ? [] : state.heldAcks
        }
        for held in released { try? await held.writer.write(.ack(held.ack)) }
    }

    private func serve(_ connection: MessageChannel) async {
        try? await connection.executeThenClose { inbound, outbound in
            for try await message in inbound {
                switch message {
                case .hello(let hello):
                    let (required, latest) = state.withLock { state in
                        state.hellos.append(hello)
                        if case .notRequired = state.admission { return (false, state.latestVersion) }
                        return (true, state.latestVersion)
                    }
                    guard hello.protocolVersion <= latest else {
                        try await outbound.write(
                            .error(ErrorMessage(code: .unsupportedVersion, message: "speaks up to \(latest)")))
                        return
                    }
                    try await outbound.write(
                        .welcome(
                            Welcome(
                                protocolVersion: hello.protocolVersion, collectorID: "fake-collector",
                                maxFrameBytes: UInt32(WireFormat.defaultMaxFrameBytes),
                                admissionRequired: required)))
                case .records(let records):
                    let ack = Ack(batchID: records.batchID, stored: UInt32(records.calls.count), duplicates: 0)
                    let hold = state.withLock { state in
                        state.calls.append(contentsOf: records.calls)
                        if state.holdAcks { state.heldAcks.append((outbound, ack)) }
                        return state.holdAcks
                    }
                    if !hold { try await outbound.write(.ack(ack)) }
                case .ping(let nonce):
                    try await outbound.write(.pong(nonce: nonce))
                case .admit(let admit):
                    let admission = state.withLock { state in
                        state.admits.append(admit)
                        return state.admission
                    }
                    switch admission {
                    case .notRequired, .admitAll:
                        try await outbound.write(.verdict(Verdict(requestID: admit.requestID, decision: .admit)))
                    case .refuseAll(let type, let message, let retryAfter):
                        try await outbound.write(
                            .verdict(
                                Verdict(
                                    requestID: admit.requestID, decision: .refuse, refusalType: type, message: message,
                                    retryAfterSeconds: retryAfter)))
                    case .silent:
                        break
                    }
                case .status(let status):
                    state.withLock { $0.statuses.append(status) }
                case .welcome, .verdict, .ack, .pong, .error:
                    break
                }
            }
        }
    }
}
