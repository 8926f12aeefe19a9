import LedgerProtocol
import LedgerProtocolNIO
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle
import Synchronization

/// The TCP listener sidecars connect to. Each link runs an `IngestSession`; batches are committed
/// through the pipeline and acknowledged only once stored.
package struct IngestServer: Service {
    package struct Configuration: Sendable {
        /// `AGENTLEDGER_INGEST_HOST`. Default `0.0.0.0`.
        package var host = "0.0.0.0"
        /// `AGENTLEDGER_INGEST_PORT`. Default 4600; 0 picks a free port.
        package var port = 4600
        /// `AGENTLEDGER_INGEST_TOKEN`: when set, sidecars must present it in HELLO.
        package var ingestToken: String?
        /// `AGENTLEDGER_INGEST_TOKENS_FILE`: per-sidecar tokens, each bound to a source name.
        package var tokens: IngestTokens?
        /// Largest frame accepted. Default 80 MiB.
        package var maxFrameBytes = WireFormat.defaultMaxFrameBytes
        package var collectorID = "collector"
        /// A link must complete HELLO within this time. Default 10 s.
        package var helloTimeout: Duration = .seconds(10)
        /// A link that completes no frame for this long is closed (sidecars PING every 15 s). Default 60 s.
        package var idleTimeout: Duration = .seconds(60)
        /// Largest frame accepted before WELCOME (a HELLO is a few hundred bytes). Default 64 KiB.
        package var preWelcomeMaxFrameBytes = 64 << 10
        /// `AGENTLEDGER_INGEST_MAX_LINKS`: links open at once; more are refused. Default 1024.
        package var maxLinks = 1024
        /// `AGENTLEDGER_INGEST_MAX_UNAUTHENTICATED`: links open at once that have not completed HELLO. Default 128.
        package var maxUnauthenticatedLinks = 128
        /// `AGENTLEDGER_INGEST_MAX_BUFFERED_MB`: bytes of unfinished frames all links may hold. Default 512 MiB.
        package var maxBufferedBytes = 512 << 20
        /// `AGENTLEDGER_INGEST_TLS_CERT` / `_KEY` / `_CLIENT_CA`: TLS on every link (`LinkTLS.serverContext`); nil
        /// serves plaintext.
        package var tls: NIOSSLContext?

        package init() {}
    }

    package let configuration: Configuration
    let pipeline: IngestPipeline
    let counters: CollectorCounters
    /// Decides ADMITs; nil admits every call (nothing to enforce).
    let enforcer: Enforcer?
    /// Told of every sidecar's link, frames and STATUS, for the fleet view; nil keeps no fleet view.
    let fleet: FleetRegistry?
    /// Runs once the service group is up and before the first link is served (the store answers only then).
    let beforeAccepting: (@Sendable () async throws -> Void)?
    let logger: Logger
    private let server: NIOAsyncChannel<MessageChannel, Never>
    /// Counts open and unauthenticated links against their caps.
    package let links: LinkAdmission
    /// Bytes of unfinished frames held by all links' decoders.
    package let buffered: BufferBudget
    /// The port actually bound (differs from the configured one when that was 0).
    package let port: Int
    /// Links past WELCOME, each with what restates its terms: told when a run-time edit turns admission on or off.
    private let welcomedLinks = WelcomedLinks()

    /// Binds the listener now, so a taken port fails at start-up rather than inside the service group. `forwarder`:
    /// among several collectors, how a follower asks the enforcer.
    package static func bind(
        configuration: Configuration, pipeline: IngestPipeline, counters: CollectorCounters, enforcer: Enforcer? = nil,
        forwarder: EnforcerForwarder? = nil, fleet: FleetRegistry? = nil,
        beforeAccepting: (@Sendable () async throws -> Void)? = nil, logger: Logger
    ) async throws -> IngestServer {
        let maxFrameBytes = configuration.maxFrameBytes
        let preWelcomeMaxFrameBytes = configuration.preWelcomeMaxFrameBytes
        let budget = BufferBudget(limit: configuration.maxBufferedBytes)
        let tls = configuration.tls
        let idle = TimeAmount.nanoseconds(
            configuration.idleTimeout.components.seconds * 1_000_000_000
                + configuration.idleTimeout.components.attoseconds / 1_000_000_000)
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .bind(host: configuration.host, port: configuration.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls)) }
                    // After the decoder, the idle handler sees whole frames only: a trickled frame does not reset it.
                    let idleHandlers: [any ChannelHandler] = [
                        IdleStateHandler(readTimeout: idle), CloseWhenIdle(counters: counters),
                    ]
                    return try MessageChannel.wrapping(
                        channel,
                        limit: FrameLimit(beforeWelcome: preWelcomeMaxFrameBytes, authenticated: maxFrameBytes),
                        budget: budget,
                        frameHandlers: idleHandlers + [AdmissionHandler(enforcer: enforcer, forwarder: forwarder)])
                }
            }
        let port = server.channel.localAddress?.port ?? configuration.port
        return IngestServer(
            configuration: configuration, pipeline: pipeline, counters: counters, enforcer: enforcer, fleet: fleet,
            beforeAccepting: beforeAccepting, logger: logger, server: server, port: port, buffered: budget)
    }

    private init(
        configuration: Configuration, pipeline: IngestPipeline, counters: CollectorCounters, enforcer: Enforcer?,
        fleet: FleetRegistry?, beforeAccepting: (@Sendable () async throws -> Void)?, logger: Logger,
        server: NIOAsyncChannel<MessageChannel, Never>,
        port: Int, buffered: BufferBudget
    ) {
        self.links = LinkAdmission(
            maxLinks: configuration.maxLinks, maxUnauthenticated: configuration.maxUnauthenticatedLinks)
        self.buffered = buffered
        self.configuration = configuration
        self.pipeline = pipeline
        self.counters = counters
        self.enforcer = enforcer
        self.fleet = fleet
        self.beforeAccepting = beforeAccepting
        self.logger = logger
        self.server = server
        self.port = port
    }

    /// RECORDS a sidecar may have in flight on one link before it is cut off (sidecars keep 4).
    static let maxQueuedBatches = 32

    /// Batches of one link committed at the same time: a sidecar keeps several in flight, and the store's round
    /// trips overlap (ACKs are matched by batch id, so their order does not matter).
    static let commitsInFlight = 2

    /// Commits a link's batches (at most `commitsInFlight` at once) and ACKs each; a batch the store refuses is
    /// reported and the link closed, so the sidecar resends it on its next link.
    private func commit(
        _ batches: AsyncStream<LinkBatch>, queued: QueueDepth, outbound: NIOAsyncChannelOutboundWriter<Message>,
        channel: any Channel
    ) async throws {
        await withTaskGroup(of: Bool.self) { group in
            var running = 0
            for await batch in batches {
                if running == Self.commitsInFlight {
                    running -= 1
                    guard await group.next() == true else { break }
                }
                running += 1
                group.addTask { await commitOne(batch, queued: queued, outbound: outbound, channel: channel) }
            }
            for await committed in group where !committed {
                group.cancelAll()
                break
            }
        }
    }

    /// Commits and ACKs one batch; false when the store refused it and the link is closing.
    private func commitOne(
        _ batch: LinkBatch, queued: QueueDepth, outbound: NIOAsyncChannelOutboundWriter<Message>, channel: any Channel
    ) async -> Bool {
        defer { queued.batches.subtract(1, ordering: .relaxed) }
        let (records, source) = (batch.records, batch.source)
        do {
            let result = try await pipeline.commit(records.calls, rejected: records.rejected, source: source)
            if result.quarantined > 0 {
                logger.warning(
                    "records quarantined: not stored as calls (GET /api/quarantine)",
                    metadata: ["source": "\(source)", "count": "\(result.quarantined)"])
            }
            try await outbound.write(
                .ack(Ack(batchID: records.batchID, stored: UInt32(result.stored), duplicates: UInt32(result.duplicates))))
            return true
        } catch {
            counters.add(.batchesFailed)
            logger.error("batch not committed; the sidecar keeps it", metadata: ["error": "\(error)"])
            try? await outbound.write(
                .error(ErrorMessage(code: .storeUnavailable, message: "store unavailable", batchID: records.batchID)))
            channel.close(promise: nil)
            return false
        }
    }

    package func run() async throws {
        // Sidecars that connect meanwhile wait in the listen backlog, well within their HELLO deadline.
        try await beforeAccepting?()
        logger.info("ingest listening", metadata: ["address": "\(configuration.host):\(port)"])
        try await withThrowingDiscardingTaskGroup { group in
            try await server.executeThenClose { connections in
                for try await connection in connections.cancelOnGracefulShutdown() {
                    group.addTask { await serve(connection) }
                }
            }
        }
    }

    /// Serves a link within the caps on links, or tells the peer why not and closes it.
    private func serve(_ connection: MessageChannel) async {
        if let refusal = links.admit() {
            counters.add(refusal == .tooManyLinks(links.maxLinks) ? .ingestLinksOverCap : .ingestUnauthenticatedOverCap)
            logger.warning(
                "ingest link refused",
                metadata: [
                    "peer": "\(connection.channel.remoteAddress?.description ?? "unknown")",
                    "reason": "\(refusal.error.message)",
                ])
            try? await connection.executeThenClose { _, outbound in try await outbound.write(.error(refusal.error)) }
            return
        }
        let authenticated = await serveAdmitted(connection)
        links.closed(authenticated: authenticated)
    }

    /// Serves one link; returns whether it completed HELLO.
    private func serveAdmitted(_ connection: MessageChannel) async -> Bool {
        let peer = connection.channel.remoteAddress?.description ?? "unknown"
        let welcomed = Atomic(false)
        let linkID = WelcomedLinks.nextID()
        defer { welcomedLinks.remove(linkID) }
        // The fleet view lists sidecars: a replica's forwarding link is not one.
        var fleetSource: String?
        defer { if let fleetSource { fleet?.unlinked(source: fleetSource, now: WallClock.nowMicros()) } }
        var session = IngestSession(
            requiredToken: configuration.ingestToken, tokens: configuration.tokens, collectorID: configuration.collectorID,
            maxFrameBytes: configuration.maxFrameBytes, admissionRequired: admissionRequired)
        // A peer that never finishes HELLO (or trickles bytes) does not get to hold the link.
        let helloTimeout = configuration.helloTimeout
        let channel = connection.channel
        let deadline = Task {
            try await Task.sleep(for: helloTimeout)
            if !welcomed.load(ordering: .relaxed) {
                counters.add(.sidecarsRefused)
                counters.add(.ingestHelloTimeouts)
                channel.close(promise: nil)
            }
        }
        defer { deadline.cancel() }
        do {
            try await connection.executeThenClose { inbound, outbound in
                // Batches are committed in order by their own task, so a slow commit never delays a VERDICT.
                let (batches, queue) = AsyncStream.makeStream(of: LinkBatch.self)
                let queued = QueueDepth()
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await commit(batches, queued: queued, outbound: outbound, channel: channel) }
                    defer { queue.finish() }
                    do {
                        for try await message in inbound.cancelOnGracefulShutdown() {
                            let wasReady = session.state != .awaitingHello
                            if let fleetSource, wasReady { fleet?.seen(source: fleetSource, now: WallClock.nowMicros()) }
                            switch session.received(message) {
                            case .none:
                                continue
                            case .status(let status):
                                if let fleetSource {
                                    fleet?.reported(source: fleetSource, status: status, now: WallClock.nowMicros())
                                }
                            case .reply(let reply):
                                if !wasReady, case .ready(let source, let version) = session.state {
                                    // Before WELCOME: the sidecar's first ADMIT must find the link authenticated.
                                    try await channel.triggerUserOutboundEvent(AdmissionHandler.LinkAuthenticated(source: source))
                                        .get()
                                    welcomed.store(true, ordering: .relaxed)
                                    links.authenticated()
                                    counters.add(.sidecarsConnected)
                                    logger.info("sidecar connected", metadata: ["peer": "\(peer)", "source": "\(source)"])
                                    if let fleet, source != EnforcerForwarder.source, case .hello(let hello) = message {
                                        fleetSource = source
                                        fleet.linked(
                                            source: source, softwareVersion: hello.softwareVersion,
                                            protocolVersion: Int(version), peer: peer, now: WallClock.nowMicros())
                                    }
                                }
                                try await outbound.write(reply)
                                if !wasReady, case .welcome(let welcome) = reply {
                                    // Registered after WELCOME is written, so a restated WELCOME always follows it; a
                                    // change between building WELCOME and registering is caught by the check after.
                                    let stated = welcomedLinks.add(linkID, welcome: welcome, outbound: outbound)
                                    let now = admissionRequired
                                    if now != stated { welcomedLinks.restate(linkID, admissionRequired: now) }
                                }
                            case .commit(let records):
                                guard queued.batches.wrappingAdd(1, ordering: .relaxed).newValue <= Self.maxQueuedBatches else {
                                    counters.add(.sidecarsRefused)
                                    try await outbound.write(
                                        .error(
                                            ErrorMessage(
                                                code: .unexpectedMessage,
                                                message: "more than \(Self.maxQueuedBatches) unacknowledged batches")))
                                    return
                                }
                                guard case .ready(let source, _) = session.state else { continue }
                                queue.yield(LinkBatch(records: records, source: source))
                            case .refuse(let error):
                                counters.add(.sidecarsRefused)
                                logger.warning("sidecar refused", metadata: ["peer": "\(peer)", "reason": "\(error.message)"])
                                try await outbound.write(.error(error))
                                return
                            }
                        }
                    } catch let error as BufferBudget.Exhausted {
                        counters.add(.ingestBufferExhausted)
                        logger.warning("closing link: ingest buffers full", metadata: ["peer": "\(peer)", "error": "\(error)"])
                        try? await outbound.write(.error(ErrorMessage(code: .overloaded, message: error.description)))
                    } catch let error as ProtocolError {
                        counters.add(.badFrames)
                        logger.warning("closing link after a bad frame", metadata: ["peer": "\(peer)", "error": "\(error)"])
                        if case .refuse(let refusal) = session.decodingFailed(error) {
                            try? await outbound.write(.error(refusal))
                        }
                    }
                    queue.finish()
                    try await group.waitForAll()
                }
            }
        } catch  where Self.isTLSFailure(error) {
            counters.add(.ingestTLSFailures)
            logger.warning("ingest link closed by TLS", metadata: ["peer": "\(peer)", "error": "\(error)"])
        } catch {
            logger.debug("sidecar link ended", metadata: ["peer": "\(peer)", "error": "\(error)"])
        }
        return welcomed.load(ordering: .relaxed)
    }
}

extension IngestServer {
    /// Whether sidecars must send ADMIT now: the enforcer's policy has a budget or a rate limit.
    var admissionRequired: Bool { enforcer?.isActive ?? false }

    /// Tells every welcomed link whether ADMIT is required now, by sending WELCOME again with the link's terms and the
    /// current `admission_required` (docs/protocol.md, "The link conversation"). Call after the enforcer's policy
    /// changed; a link whose terms already say so is not told.
    package func announceAdmission() {
        welcomedLinks.restateAll(admissionRequired: admissionRequired)
    }

    /// Links that have been welcomed.
    package var welcomedLinkCount: Int { welcomedLinks.count }

    /// A TLS error that ended a link: a failed handshake or a TLS-level fault, not a peer that merely went away.
    static func isTLSFailure(_ error: any Error) -> Bool {
        if let error = error as? NIOSSLError, case .uncleanShutdown = error { return false }
        return error is NIOSSLError || error is BoringSSLError
    }
}

/// A batch and the source its link proved in HELLO, which every record of it is stored under.
private struct LinkBatch: Sendable {
    var records: Records
    var source: String
}

/// Batches of one link received but not yet acknowledged.
private final class QueueDepth: Sendable {
    let batches = Atomic(0)
}
