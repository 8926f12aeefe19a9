import Foundation
import LedgerProtocol
import LedgerProtocolNIO
import Logging
import NIOCore
import NIOPosix
import Sidecar
import Synchronization

/// `demo`'s fleet: simulated pods that link to the collector half as real sidecars do, over the wire protocol
/// (docs/protocol.md): HELLO, RECORDS, STATUS. Each first sends a day of history (sessions of several agents, users,
/// apps and models, with realistic latencies, tokens and outputs, an upstream failure now and then and a budget
/// refusal), then a call every few seconds while the demo runs. One pod was scaled down an hour ago: it sends its
/// history and leaves, so the fleet view shows a disconnected sidecar beside the linked ones.
///
/// The records go through the collector's real ingest path: normalized, priced by the price table, stored, shown live.
struct DemoFleet: Sendable {
    /// Where to link: the collector half's ingest port on loopback, and the token sidecars present.
    struct Ingest: Sendable {
        var host: String
        var port: Int
        var token: String?
    }

    struct Pod: Sendable {
        var name: String
        var app: String
        var environment: String
        var agents: [String]
        var models: [String]
        var users: [String]
        /// Sessions per hour at the busiest hour of the day.
        var sessionsPerHour: Double
        /// Linked for the whole demo; false: scaled down an hour before now.
        var stays = true
    }

    static let pods: [Pod] = [
        Pod(
            name: "support-bot-6d8f9-x2kqp", app: "support-desk", environment: "production",
            agents: ["triage", "answerer"], models: ["gpt-4o-mini", "gpt-4o"],
            users: ["acme-corp", "globex", "initech", "umbrella"], sessionsPerHour: 14),
        Pod(
            name: "research-7c9f4-m8z2w", app: "research-assistant", environment: "production",
            agents: ["planner", "researcher", "writer"], models: ["claude-sonnet-4-5", "gpt-4o", "gpt-4o-mini"],
            users: ["ada", "grace", "linus"], sessionsPerHour: 5),
        Pod(
            name: "research-7c9f4-q4n7d", app: "research-assistant", environment: "production",
            agents: ["planner", "researcher", "writer"], models: ["claude-sonnet-4-5", "gpt-4o", "gpt-4o-mini"],
            users: ["margaret", "alan", "barbara"], sessionsPerHour: 5),
        Pod(
            name: "summarizer-5b7d6-k9w3c", app: "doc-summarizer", environment: "production",
            agents: ["summarizer"], models: ["gpt-4o-mini", "claude-haiku-4-5"],
            users: ["legal-team", "finance-team"], sessionsPerHour: 9),
        Pod(
            name: "eval-runner-0", app: "evals", environment: "staging", agents: ["grader"],
            models: ["gpt-4o", "claude-haiku-4-5", "acme-llama-70b"], users: ["ci"], sessionsPerHour: 3, stays: false),
    ]

    let ingest: Ingest
    let logger: Logger

    /// Sends every pod's history, then keeps the staying pods linked, sending live calls, until cancelled. Says on
    /// standard output once every pod's history is stored.
    func run() async {
        let now = WallClock.nowMicros()
        let backfilled = Mutex((pods: 0, calls: 0))
        let announce: @Sendable (Int) -> Void = { calls in
            let (pods, total) = backfilled.withLock { state in
                state.pods += 1
                state.calls += calls
                return (state.pods, state.calls)
            }
            if pods == Self.pods.count {
                FileHandleOutput.standardOutput(
                    "demo: a day of history from \(pods) simulated pods (\(total) calls) stored; live calls follow\n")
            }
        }
        await withTaskGroup(of: Void.self) { group in
            for (index, pod) in Self.pods.enumerated() {
                group.addTask {
                    var random = DemoRandom(seed: UInt64(index + 1) &* 0x9E37_79B9_7F4A_7C15)
                    do {
                        try await self.play(pod, random: &random, now: now, backfilled: announce)
                    } catch is CancellationError {
                    } catch {
                        self.logger.warning(
                            "demo pod stopped", metadata: ["pod": "\(pod.name)", "error": "\(error)"])
                    }
                }
            }
        }
    }

    private func play(
        _ pod: Pod, random: inout DemoRandom, now: Int64, backfilled: @Sendable (Int) -> Void
    ) async throws {
        let hour: Int64 = 3_600_000_000
        let end = pod.stays ? now : now - hour
        var history = DemoSessions(pod: pod)
        let calls = history.day(until: end, random: &random)
        try await link(pod) { (link: inout DemoLink) in
            var batchID: UInt64 = 0
            for start in stride(from: 0, to: calls.count, by: 200) {
                batchID += 1
                try await link.send(Records(batchID: batchID, calls: Array(calls[start..<min(start + 200, calls.count)])))
            }
            var status = Self.status(pod, captured: calls.count, now: WallClock.nowMicros(), random: &random)
            try await link.report(status)
            backfilled(calls.count)
            guard pod.stays else { return }
            var captured = calls.count
            var lastReport = WallClock.nowMicros()
            while !Task.isCancelled {
                try await Task.sleep(for: .milliseconds(Int64(random.double(in: 2_500...9_000))))
                let live = history.liveCalls(at: WallClock.nowMicros(), random: &random)
                if !live.isEmpty {
                    batchID += 1
                    try await link.send(Records(batchID: batchID, calls: live))
                    captured += live.count
                }
                if WallClock.nowMicros() - lastReport >= 10_000_000 {
                    lastReport = WallClock.nowMicros()
                    status = Self.status(pod, captured: captured, now: lastReport, random: &random)
                    try await link.report(status)
                }
            }
        }
    }

    static func status(_ pod: Pod, captured: Int, now: Int64, random: inout DemoRandom) -> SidecarStatus {
        let admissions = UInt64(random.int(in: 20...90))
        return SidecarStatus([
            .startedAtMicros: UInt64(now - 26 * 3_600_000_000 - Int64(random.int(in: 0...7_200)) * 1_000_000),
            .sentAtMicros: UInt64(now), .captured: UInt64(captured), .acknowledged: UInt64(captured), .dropped: 0,
            .droppedUnconfirmed: 0, .queued: 0, .spoolBytes: 0, .upstreamUnreachable: 0,
            .refusedByCollector: pod.app == "support-desk" ? 1 : 0, .admissionUnavailable: 0,
            .admissions: admissions, .admissionP50Micros: 200, .admissionP99Micros: random.int(in: 0...3) == 0 ? 1_000 : 750,
            .reconnects: 0,
        ])
    }

    /// One link to the collector half for `body`, as a sidecar's: HELLO first, every batch acknowledged.
    private func link(_ pod: Pod, _ body: (inout DemoLink) async throws -> Void) async throws {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: ingest.host, port: ingest.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try FrameChannel.wrapping(channel, maxFrameBytes: WireFormat.defaultMaxFrameBytes)
                }
            }
        try await channel.executeThenClose { inbound, outbound in
            var messages = inbound.makeAsyncIterator()
            let hello = Hello(source: pod.name, ingestToken: ingest.token, softwareVersion: CollectorLink.softwareVersion)
            try await outbound.write(ByteBuffer(bytes: Message.hello(hello).encodedFrame()))
            guard case .welcome(let welcome) = try await messages.next() else {
                throw DemoError("the collector did not welcome \(pod.name)")
            }
            var link = DemoLink(version: welcome.protocolVersion, outbound: outbound, messages: messages)
            try await body(&link)
        }
    }
}

struct DemoError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// One simulated pod's open link: RECORDS out and their ACKs awaited, STATUS out on a version-2 link.
struct DemoLink {
    let version: UInt16
    let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    var messages: NIOAsyncChannelInboundStream<Message>.AsyncIterator

    mutating func send(_ records: Records) async throws {
        try await outbound.write(ByteBuffer(bytes: Message.records(records).encodedFrame()))
        while let message = try await messages.next() {
            switch message {
            case .ack(let ack) where ack.batchID == records.batchID: return
            case .ping(let nonce): try await outbound.write(ByteBuffer(bytes: Message.pong(nonce: nonce).encodedFrame()))
            case .error(let error): throw DemoError("the collector refused a batch: \(error.message)")
            default: continue
            }
        }
        throw DemoError("the collector closed the link")
    }

    func report(_ status: SidecarStatus) async throws {
        guard version >= 2 else { return }
        try await outbound.write(ByteBuffer(bytes: Message.status(status).encodedFrame()))
    }
}
