import LedgerAdmission
import LedgerProtocol
import LedgerProtocolNIO
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import Prometheus
import ServiceLifecycle

/// A follower's link to the enforcer (docs/operations.md, "Several collectors"): the ADMITs its sidecars send are
/// asked of the enforcer over the same frame protocol a sidecar speaks, and the VERDICTs go back to the sidecars
/// under their own request ids. Sidecars need not know which collector enforces.
///
/// Follows `Leadership`: links to the enforcer's advertised address whenever there is one, and again when it
/// changes. While there is none, or no answer comes in time, an ADMIT is left unanswered and the sidecar follows
/// `AGENTLEDGER_ON_COLLECTOR_DOWN`, as it would with no collector at all.
package final class EnforcerForwarder: Service, Sendable {
    /// The source a forwarding link introduces itself with in HELLO: a collector never forwards what arrives on such
    /// a link again. With `AGENTLEDGER_INGEST_TOKENS_FILE`, list it there with `AGENTLEDGER_INGEST_TOKEN`'s value.
    package static let source = "agentledger-collector"

    /// With TLS on the ingest port: the replicas' certificate, shown and expected back (`LinkTLS.replicaClientContext`).
    package struct TLS: Sendable {
        package var context: NIOSSLContext
        package var pinned: NIOSSLCertificate

        package init(context: NIOSSLContext, pinned: NIOSSLCertificate) {
            self.context = context
            self.pinned = pinned
        }
    }

    let leadership: Leadership
    let admission: AdmissionClient
    let ingestToken: String?
    let tls: TLS?
    let counters: EnforcementCounters
    let logger: Logger

    package init(
        leadership: Leadership, ingestToken: String?, tls: TLS? = nil, timeout: Duration, counters: EnforcementCounters,
        logger: Logger
    ) {
        self.leadership = leadership
        self.tls = tls
        self.ingestToken = ingestToken
        self.counters = counters
        self.logger = logger
        admission = AdmissionClient(
            timeout: timeout, registry: counters.registry,
            latencyMetric: (
                "agentledger_admission_forward_seconds",
                "ADMIT forwarded to the enforcer to its VERDICT, as this collector waited for it."
            ))
        // Until the enforcer's WELCOME says otherwise, admission is required: an ADMIT with no link is unavailable,
        // never admitted unasked.
        admission.welcomed(admissionRequired: true)
    }

    /// Whether the link to the enforcer is up and welcomed.
    package var isLinked: Bool { admission.isLinked }

    /// Asks the enforcer; `done` runs on `eventLoop` with the VERDICT for `admit`'s request id, or nil when none
    /// could be had.
    func forward(_ admit: Admit, answeringOn eventLoop: any EventLoop, _ done: @escaping @Sendable (Verdict?) -> Void) {
        counters.add(.admissionsForwarded)
        let requestID = admit.requestID
        admission.admit(
            { id in
                var forwarded = admit
                forwarded.requestID = id
                return forwarded
            }, answeringOn: eventLoop
        ) { [counters] outcome in
            switch outcome {
            case .admitted, .notRequired:
                done(Verdict(requestID: requestID, decision: .admit))
            case .refused(var verdict):
                verdict.requestID = requestID
                done(verdict)
            case .unavailable:
                counters.add(.admissionsUnanswered)
                done(nil)
            }
        }
    }

    package func run() async throws {
        await cancelWhenGracefulShutdown {
            var failures = 0
            while !Task.isCancelled {
                guard let address = self.leadership.enforcerAddress else {
                    try? await Task.sleep(for: .milliseconds(100))
                    continue
                }
                do {
                    try await self.serve(address)
                    failures = 0
                } catch {
                    failures += 1
                    if failures == 1 || failures % 50 == 0 {
                        self.logger.warning(
                            "no link to the enforcer; its ADMITs go unanswered until there is one",
                            metadata: ["enforcer": "\(address)", "error": "\(error)", "attempts": "\(failures)"])
                    }
                    try? await Task.sleep(for: .milliseconds(200))
                }
            }
        }
    }

    /// One link to `address`, until it fails, or the enforcer changes (then it returns).
    private func serve(_ address: String) async throws {
        guard let (host, port) = Self.split(address) else {
            throw ForwardingError("the enforcer's address \(address) is not host:port")
        }
        let admission = self.admission
        let tls = self.tls
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.socketOption(.so_keepalive), value: 1)
            .connectTimeout(.seconds(1))
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        let pinned = tls.pinned
                        try channel.pipeline.syncOperations.addHandler(
                            NIOSSLClientHandler(context: tls.context, serverHostname: nil) { chain, verdict in
                                verdict.succeed(chain.first == pinned ? .certificateVerified : .failed)
                            })
                    }
                    return try FrameChannel.wrapping(
                        channel, maxFrameBytes: WireFormat.defaultMaxFrameBytes, handlers: [VerdictHandler(admission: admission)])
                }
            }
        let link = channel.channel
        admission.attach(on: link.eventLoop) { frames in
            for frame in frames { link.write(frame, promise: nil) }
            link.flush()
        }
        defer { admission.detach() }
        try await channel.executeThenClose { inbound, outbound in
            let hello = Hello(source: Self.source, ingestToken: ingestToken, softwareVersion: "collector")
            try await outbound.write(ByteBuffer(bytes: Message.hello(hello).encodedFrame()))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for try await message in inbound {
                        switch message {
                        case .welcome(let welcome):
                            admission.welcomed(
                                admissionRequired: welcome.admissionRequired, protocolVersion: welcome.protocolVersion)
                        case .verdict(let verdict):
                            admission.resolve(verdict)
                        case .ping(let nonce):
                            try await outbound.write(ByteBuffer(bytes: Message.pong(nonce: nonce).encodedFrame()))
                        case .pong:
                            break
                        case .error(let error):
                            throw ForwardingError("the enforcer refused the link (\(error.code)): \(error.message)")
                        case .hello, .admit, .records, .ack, .status:
                            throw ForwardingError("unexpected \(message.type) from the enforcer")
                        }
                    }
                    throw ForwardingError("the enforcer closed the link")
                }
                group.addTask {
                    // Pings keep the link through the enforcer's idle timeout; the enforcer changing ends it.
                    var nonce: UInt64 = 0
                    var sincePing = 0
                    while self.leadership.enforcerAddress == address {
                        try await Task.sleep(for: .milliseconds(100))
                        sincePing += 1
                        if sincePing == 100 {
                            sincePing = 0
                            nonce &+= 1
                            try await outbound.write(ByteBuffer(bytes: Message.ping(nonce: nonce).encodedFrame()))
                        }
                    }
                }
                try await group.next()
                group.cancelAll()
            }
        }
    }

    /// `host:port` or `[v6]:port`.
    static func split(_ address: String) -> (String, Int)? {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]),
            (1...65535).contains(port)
        else { return nil }
        var host = address[..<colon]
        if host.hasPrefix("["), host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        guard !host.isEmpty else { return nil }
        return (String(host), port)
    }
}

struct ForwardingError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
