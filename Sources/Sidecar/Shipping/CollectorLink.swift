import LedgerAdmission
import LedgerProtocol
import LedgerProtocolNIO
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle

/// The sidecar's connection to its collector: HELLO, then RECORDS out and ACKs in, reconnecting with
/// backoff whenever the link breaks. On graceful shutdown it keeps sending until everything queued is
/// acknowledged or the drain timeout passes.
package struct CollectorLink: Service {
    package struct Configuration: Sendable {
        /// `AGENTLEDGER_COLLECTOR`: the collectors' ingest addresses, never empty. Each attempt to link goes through
        /// them in order and stops at the first that answers; the link is always to one collector at a time.
        package var addresses: [Address]
        /// `AGENTLEDGER_SOURCE`: this sidecar's identity.
        package var source: String
        /// `AGENTLEDGER_INGEST_TOKEN`.
        package var ingestToken: String?
        /// How long shutdown waits for the queue to drain. Default 5 s.
        package var drainTimeout: Duration = .seconds(5)
        package var maxFrameBytes: Int = WireFormat.defaultMaxFrameBytes
        /// How often an established link is probed with PING, keeping it alive through the collector's idle timeout.
        package var pingInterval: Duration = .seconds(15)
        /// `AGENTLEDGER_COLLECTOR_TLS`: TLS on the link; nil connects in plaintext.
        package var tls: TLS?
        /// How often the sidecar reports its figures (STATUS) on a version-2 link, for the collector's fleet view.
        /// `AGENTLEDGER_STATUS_INTERVAL_MS`; default 10 s.
        package var statusInterval: Duration = .seconds(10)

        package init(host: String, port: Int, source: String, ingestToken: String?) {
            self.init(addresses: [Address(host: host, port: port)], source: source, ingestToken: ingestToken)
        }

        /// `addresses` must not be empty.
        package init(addresses: [Address], source: String, ingestToken: String?) {
            precondition(!addresses.isEmpty, "a collector link needs at least one address")
            self.addresses = addresses
            self.source = source
            self.ingestToken = ingestToken
        }
    }

    /// One collector's ingest address.
    package struct Address: Sendable, Equatable, CustomStringConvertible {
        package var host: String
        package var port: Int

        package init(host: String, port: Int) {
            self.host = host
            self.port = port
        }

        package var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    }

    /// How the link is encrypted (docs/operations.md, "TLS on the ingest link").
    package struct TLS: Sendable {
        /// From `LinkTLS.clientContext`: the roots the collector's certificate is verified against, and the client
        /// certificate, if any.
        package var context: NIOSSLContext
        /// `AGENTLEDGER_COLLECTOR_TLS_SERVER_NAME`: the name sent (SNI) and verified in the collector's certificate.
        /// Nil: the collector's host, unless that is an IP address (then the certificate must name that address).
        package var serverName: String?

        package init(context: NIOSSLContext, serverName: String?) {
            self.context = context
            self.serverName = serverName
        }
    }

    /// Why a link ended.
    package enum LinkError: Error, CustomStringConvertible {
        case refused(ErrorMessage)
        case unexpected(Message)
        case closed

        package var description: String {
            switch self {
            case .refused(let error): "collector refused the link (\(error.code)): \(error.message)"
            case .unexpected(let message): "unexpected \(message.type) from collector"
            case .closed: "collector closed the link"
            }
        }
    }

    let configuration: Configuration
    let shipper: Shipper
    let admission: AdmissionClient
    let logger: Logger
    /// When this sidecar started, µs since the epoch, for STATUS.
    let startedAtMicros = WallClock.nowMicros()
    package static let softwareVersion = "0.1.0"  // agentledger's one version: HELLO, `--version`, exports

    package init(configuration: Configuration, shipper: Shipper, admission: AdmissionClient, logger: Logger) {
        self.configuration = configuration
        self.shipper = shipper
        self.admission = admission
        self.logger = logger
    }

    package func run() async throws {
        let drainTimeout = configuration.drainTimeout
        try await withGracefulShutdownHandler {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await connectLoop() }
                group.addTask { await syncLoop() }
                group.addTask {
                    // Bounds the drain: once shutdown has begun, stop trying after the timeout.
                    try await gracefulShutdown()
                    try await Task.sleep(for: drainTimeout)
                }
                try await group.next()
                group.cancelAll()
            }
        } onGracefulShutdown: {
            shipper.beginDrain()
        }
        shipper.syncSpool()
        if !shipper.isIdle {
            logger.warning(
                "shutting down with calls not yet delivered; they stay in the spool for the next start",
                metadata: ["spool_bytes": "\(shipper.spoolBytes)"])
        }
    }

    /// Flushes spool writes to the disk every 100 ms (grouped `fsync`), on NIO's blocking pool: tasks run on the
    /// event loops, and an `fsync` of a few megabytes there would hold up every call on that loop for milliseconds.
    private func syncLoop() async {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: .milliseconds(100))
            } catch {
                return
            }
            do {
                try await NIOThreadPool.singleton.runIfActive { [shipper] in shipper.syncSpool() }
            } catch {
                shipper.syncSpool()  // the pool is gone (shutdown): flush here rather than not at all
            }
        }
    }

    /// Links to the first address that answers, in order; when every address has failed, waits with backoff and
    /// starts again from the first. A link that got as far as WELCOME and then ended starts a new round from the
    /// first address after the shortest delay, so the preferred collector is used again once it is back.
    private func connectLoop() async {
        var backoff = Backoff()
        var rounds = AddressRounds(count: configuration.addresses.count)
        // Addresses whose collector refused version 2 (an earlier release): HELLO offers them version 1.
        var versionOne = Set<Int>()
        while !Task.isCancelled {
            if shipper.isDraining && shipper.isIdle { return }
            let linksBefore = shipper.linksEstablished
            let address = configuration.addresses[rounds.current]
            let offer = versionOne.contains(rounds.current) ? UInt16(1) : UInt16(WireFormat.latestVersion)
            do {
                try await serveOneConnection(to: address, offering: offer)
            } catch is CancellationError {
                return
            } catch LinkError.refused(let refusal) where refusal.code == .unsupportedVersion && offer > 1 {
                logger.info(
                    "collector speaks protocol version 1 only; linking with it (no STATUS, no environment in ADMIT)",
                    metadata: ["collector": "\(address)"])
                versionOne.insert(rounds.current)
                continue
            } catch {
                shipper.counters.add(.reconnects)
                logger.warning("collector link down", metadata: ["collector": "\(address)", "error": "\(error)"])
            }
            if shipper.isDraining && shipper.isIdle { return }
            // A link that got as far as WELCOME was healthy: the next attempt starts from the shortest delay.
            let linked = shipper.linksEstablished != linksBefore
            if linked { backoff.reset() }
            guard rounds.advance(linked: linked) else { continue }  // the next address, at once
            do {
                try await Task.sleep(for: .milliseconds(backoff.nextDelayMillis()))
            } catch {
                return
            }
        }
    }

    private func serveOneConnection(to address: Address, offering version: UInt16) async throws {
        let maxFrameBytes = configuration.maxFrameBytes
        let admission = self.admission
        let tls = configuration.tls?.context
        let serverName = configuration.tls?.serverName ?? LinkTLS.serverName(for: address.host)
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.socketOption(.so_keepalive), value: 1)
            .connectTimeout(.seconds(3))
            .connect(host: address.host, port: address.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        try channel.pipeline.syncOperations.addHandler(
                            NIOSSLClientHandler(context: tls, serverHostname: serverName))
                    }
                    return try FrameChannel.wrapping(
                        channel, maxFrameBytes: maxFrameBytes, handlers: [VerdictHandler(admission: admission)])
                }
            }
        let wake = shipper.attach()
        let link = channel.channel
        admission.attach(on: link.eventLoop) { frames in
            for frame in frames { link.write(frame, promise: nil) }
            link.flush()
        }
        defer {
            admission.detach()
            shipper.linkLost()
        }
        // The version WELCOME chose, from `receive` to `report`; finished when `receive` ends.
        let (welcomes, welcomed) = AsyncStream.makeStream(of: UInt16.self)
        try await channel.executeThenClose { inbound, outbound in
            let hello = Hello(
                protocolVersion: version, source: configuration.source, ingestToken: configuration.ingestToken,
                softwareVersion: Self.softwareVersion)
            try await outbound.write(ByteBuffer(bytes: Message.hello(hello).encodedFrame()))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    defer { welcomed.finish() }
                    try await receive(inbound, replies: outbound, welcomed: welcomed)
                }
                group.addTask { try await send(outbound, wake: wake) }
                group.addTask { try await ping(outbound) }
                group.addTask { try await report(outbound, welcomes: welcomes) }
                // Whichever ends first (link closed, or drained on shutdown) ends the connection.
                try await group.next()
                group.cancelAll()
            }
        }
    }

    private func receive(
        _ inbound: NIOAsyncChannelInboundStream<Message>, replies: NIOAsyncChannelOutboundWriter<ByteBuffer>,
        welcomed: AsyncStream<UInt16>.Continuation
    ) async throws {
        var version: UInt16?
        for try await message in inbound {
            switch message {
            case .welcome(let welcome) where version != nil:
                // The collector restates the link's terms: a run-time edit of its limits turned admission on or off.
                logger.info(
                    "collector changed admission", metadata: ["admission": "\(welcome.admissionRequired ? "on" : "off")"])
                admission.welcomed(admissionRequired: welcome.admissionRequired, protocolVersion: version ?? 1)
            case .welcome(let welcome):
                version = welcome.protocolVersion
                logger.info(
                    "connected to collector",
                    metadata: [
                        "collector": "\(welcome.collectorID)", "admission": "\(welcome.admissionRequired ? "on" : "off")",
                        "protocol_version": "\(welcome.protocolVersion)",
                    ])
                welcomed.yield(welcome.protocolVersion)
                admission.welcomed(admissionRequired: welcome.admissionRequired, protocolVersion: welcome.protocolVersion)
                shipper.linkEstablished(maxFrameBytes: Int(welcome.maxFrameBytes))
            case .ack(let ack):
                shipper.acknowledge(ack)
            case .error(let error) where error.code == .storeUnavailable:
                if let batchID = error.batchID { shipper.reject(batchID: batchID) }
                throw LinkError.refused(error)
            case .error(let error):
                throw LinkError.refused(error)
            case .verdict(let verdict):  // answered by VerdictHandler on the event loop; kept for completeness
                admission.resolve(verdict)
            case .pong:
                break
            case .ping(let nonce):
                try await replies.write(ByteBuffer(bytes: Message.pong(nonce: nonce).encodedFrame()))
            case .hello, .admit, .records, .status:
                throw LinkError.unexpected(message)
            }
        }
        throw LinkError.closed
    }

    private func ping(_ outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>) async throws {
        var nonce: UInt64 = 0
        while true {
            try await Task.sleep(for: configuration.pingInterval)
            nonce += 1
            try await outbound.write(ByteBuffer(bytes: Message.ping(nonce: nonce).encodedFrame()))
        }
    }

    /// On a version-2 link: STATUS at once after WELCOME, then every `statusInterval`. On a version-1 link nothing:
    /// it waits for the link to end (`welcomes` finishes with it), since ending first would end the link.
    private func report(_ outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>, welcomes: AsyncStream<UInt16>)
        async throws
    {
        var versions = welcomes.makeAsyncIterator()
        guard let version = await versions.next(), version >= 2 else {
            while await versions.next() != nil {}
            return
        }
        while true {
            try await outbound.write(ByteBuffer(bytes: Message.status(status()).encodedFrame()))
            try await Task.sleep(for: configuration.statusInterval)
        }
    }

    /// This sidecar's figures now (docs/protocol.md, "STATUS").
    func status() -> SidecarStatus {
        let counters = shipper.counters
        let count = { (name: SidecarCounter) in UInt64(max(0, counters.value(name))) }
        var status = SidecarStatus([
            .startedAtMicros: UInt64(max(0, startedAtMicros)), .sentAtMicros: UInt64(max(0, WallClock.nowMicros())),
            .captured: count(.captured), .acknowledged: count(.acknowledged), .dropped: count(.dropped),
            .droppedUnconfirmed: count(.droppedUnconfirmed), .queued: UInt64(max(0, shipper.queuedCalls)),
            .spoolBytes: UInt64(max(0, shipper.spoolBytes)), .upstreamUnreachable: count(.upstreamUnreachable),
            .refusedByCollector: count(.refusedByCollector), .admissionUnavailable: count(.admissionUnavailable),
            .reconnects: count(.reconnects), .admissions: 0,
        ])
        if let window = admission.latency.drainWindow() {
            status[.admissions] = UInt64(window.count)
            status[.admissionP50Micros] = UInt64(max(0, window.p50Micros))
            status[.admissionP99Micros] = UInt64(max(0, window.p99Micros))
        }
        return status
    }

    private func send(_ outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>, wake: AsyncStream<Void>) async throws {
        for await _ in wake {
            sending: while true {
                switch shipper.next() {
                case .send(let batch):
                    try await outbound.write(
                        ByteBuffer(bytes: Records.encodedFrame(batchID: batch.batchID, encodedCalls: batch.calls)))
                case .wait(let until):
                    try await Task.sleep(for: .nanoseconds(max(0, until - shipper.nowNanos)))
                case .idle:
                    break sending
                }
            }
        }
        // The stream finishes when the shipper drained on shutdown or the link was replaced.
    }
}
